import type { Context } from "hono";
import { z } from "zod";
import { InvalidParameterError } from "../errors";
import type { AppEnv } from "./context";

// How MLflow clients send parameters: a query string for GET (repeated keys for lists, numbers and
// booleans as text), a JSON body for everything else (DELETE included).

export const int = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number),
]);
export const bool = z.union([
  z.boolean(),
  z.enum(["true", "false", "True", "False"]).transform((v) => v.toLowerCase() === "true"),
]);
/** A version travels as a string; tolerate a JSON number too. */
export const versionText = z.union([z.string(), z.number().int()]).transform(String);
export const stringList = z.preprocess((v) => (v === undefined || Array.isArray(v) ? v : [v]), z.array(z.string()));
export const tagList = z.array(z.object({ key: z.string(), value: z.string() }));

function queryObject(c: Context): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, values] of Object.entries(c.req.queries())) out[key] = values.length === 1 ? values[0]! : values;
  return out;
}

async function bodyObject(c: Context): Promise<unknown> {
  // Decoded here rather than with .text(): the body is JSON whatever Content-Type a client set, and
  // workerd warns on .text() of a body not labelled as text.
  const text = new TextDecoder().decode(await c.req.arrayBuffer());
  if (text.trim() === "") return {};
  try {
    const parsed: unknown = JSON.parse(text);
    // Older clients send the body JSON-encoded twice; MLflow's server decodes it again.
    return typeof parsed === "string" ? JSON.parse(parsed) : parsed;
  } catch {
    throw new InvalidParameterError("Malformed JSON in the request body.");
  }
}

async function decodeParameters(c: Context): Promise<Record<string, unknown>> {
  const raw = c.req.method === "GET" || c.req.method === "HEAD" ? queryObject(c) : await bodyObject(c);
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new InvalidParameterError("The request body must be a JSON object.");
  }
  return raw as Record<string, unknown>;
}

/**
 * The request's parameters, decoded once per request: the query string of a GET or HEAD, the JSON
 * body of anything else (never both). The first read keeps the decoded value in the request's
 * context and every later read (the route's guard, the handler, with whatever schema) gets that
 * same value, so the authorization check and the action cannot see two readings of one request.
 */
export function requestParameters(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  let held = c.get("parameters");
  if (held === undefined) {
    held = decodeParameters(c);
    c.set("parameters", held);
  }
  return held;
}

function describe(issue: z.core.$ZodIssue, input: unknown): string {
  const path = issue.path.join(".");
  const value = issue.path.reduce<unknown>(
    (v, k) => (v && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined),
    input,
  );
  if (value === undefined && issue.code === "invalid_type") {
    return `Missing value for required parameter '${path}'. See the API docs for more information about request parameters.`;
  }
  const type = Array.isArray(value) ? "list" : value === null ? "null" : typeof value;
  return `Invalid value ${JSON.stringify(value)?.slice(0, 200)} for parameter '${path}' supplied: ${issue.message}. Hint: Value was of type '${type}'. See the API docs for more information about request parameters.`;
}

/** Reads and validates a request's parameters; any failure is INVALID_PARAMETER_VALUE naming the parameter. */
export async function readInput<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const raw = await requestParameters(c as Context<AppEnv>);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new InvalidParameterError(describe(parsed.error.issues[0]!, raw)); // a failure has an issue
  return parsed.data;
}
