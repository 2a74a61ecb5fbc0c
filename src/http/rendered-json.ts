import type { Context } from "hono";
import { isShared } from "../domain/shared-value";

const JSON_TYPE = { "content-type": "application/json" };

/**
 * A JSON answer rendered once per value object. A point read hands every request the same shared
 * object while the model's coordinator vouches that it is current (domain/shared-value.ts), so an
 * unchanged answer's MLflow JSON is built once per isolate rather than once per request. Values
 * that are not shared are rendered every time: nothing guarantees they stay as they are.
 */
export function renderedOnce<T extends object>(render: (value: T) => unknown): (c: Context, value: T) => Response {
  const rendered = new WeakMap<T, string>();
  return (c, value) => {
    let text = rendered.get(value);
    if (text === undefined) {
      text = JSON.stringify(render(value));
      if (isShared(value)) rendered.set(value, text);
    }
    return c.body(text, 200, JSON_TYPE);
  };
}
