import type { Child } from "hono/jsx";
import { CsrfField } from "../components";

export interface Confirmation {
  title: string;
  /** What will happen, in plain words. */
  consequences: Child;
  /** The form's target and the fields to send again, now confirmed. */
  action: string;
  fields: Record<string, string>;
  confirmLabel: string;
  cancelHref: string;
  /** Offer a comment for the history (stage changes). */
  comment?: boolean;
}

/** The plain confirmation step: works without JavaScript, and the action runs only from here. */
export function ConfirmPage(props: Confirmation & { csrf: string }) {
  return (
    <>
      <h1>{props.title}</h1>
      <div class="panel">{props.consequences}</div>
      <form method="post" action={props.action}>
        <CsrfField token={props.csrf} />
        {Object.entries(props.fields).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <input type="hidden" name="confirmed" value="yes" />
        {props.comment && (
          <p>
            <label for="comment">Comment for the history (optional)</label>
            <textarea id="comment" name="comment" rows={2} maxlength={900}></textarea>
          </p>
        )}
        <p>
          <button type="submit" class="primary" autofocus>
            {props.confirmLabel}
          </button>{" "}
          <a class="button" href={props.cancelHref}>
            Cancel
          </a>
        </p>
      </form>
    </>
  );
}
