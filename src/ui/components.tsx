import type { Child } from "hono/jsx";
import type { ModelVersion, Tag } from "../domain/model";
import type { Stage } from "../domain/stages";
import { CSRF_FIELD } from "./csrf";
import { formatTime, isoTime } from "./format";

export const modelHref = (name: string) => `/models/${encodeURIComponent(name)}`;
export const versionHref = (name: string, version: number | string) => `${modelHref(name)}/versions/${version}`;
export const compareHref = (name: string, versions: number[], metric?: string) =>
  `${modelHref(name)}/compare?versions=${versions.join(",")}${metric ? `&metric=${encodeURIComponent(metric)}` : ""}`;
export const actionHref = (name: string, action: string) => `/ui/actions/models/${encodeURIComponent(name)}/${action}`;

export function StageBadge(props: { stage: Stage }) {
  return <span class={`badge stage-${props.stage}`}>{props.stage}</span>;
}

export function StatusBadge(props: { version: ModelVersion }) {
  const v = props.version;
  if (v.status === "READY") return <span class="muted">Ready</span>;
  return (
    <span class={`badge status-${v.status}`} title={v.statusMessage ?? undefined}>
      {v.status === "FAILED_REGISTRATION" ? "Failed" : "Pending"}
    </span>
  );
}

export function Time(props: { ms: number | null | undefined }) {
  if (props.ms === null || props.ms === undefined || !Number.isFinite(props.ms)) return <span class="muted">—</span>;
  return <time datetime={isoTime(props.ms)}>{formatTime(props.ms)}</time>;
}

export function Tags(props: { tags: Tag[]; limit?: number }) {
  if (props.tags.length === 0) return <span class="muted">—</span>;
  const shown = props.limit ? props.tags.slice(0, props.limit) : props.tags;
  return (
    <>
      {shown.map((t) => (
        <span class="chip">
          {t.key}
          {t.value !== "" && `=${t.value}`}
        </span>
      ))}
      {shown.length < props.tags.length && <span class="muted">+{props.tags.length - shown.length} more</span>}
    </>
  );
}

export function Aliases(props: { aliases: { alias: string; version?: number }[] }) {
  if (props.aliases.length === 0) return <span class="muted">—</span>;
  return (
    <>
      {props.aliases.map((a) => (
        <span class="chip">
          @{a.alias}
          {a.version !== undefined && ` → v${a.version}`}
        </span>
      ))}
    </>
  );
}

export function CsrfField(props: { token: string }) {
  return <input type="hidden" name={CSRF_FIELD} value={props.token} />;
}

export function Empty(props: { children?: Child }) {
  return <div class="empty">{props.children}</div>;
}

/** A copy-paste snippet; the Copy button appears only where the script runs. */
export function Snippet(props: { id: string; label: string; text: string }) {
  return (
    <div>
      <div class="muted" id={`${props.id}-label`}>
        {props.label}
      </div>
      <figure class="snippet" aria-labelledby={`${props.id}-label`}>
        <pre id={props.id}>{props.text}</pre>
        <button type="button" data-copy={props.id} hidden aria-label={`Copy: ${props.label}`}>
          Copy
        </button>
      </figure>
    </div>
  );
}

/** The hidden inputs that carry a query string's other parameters through a GET form. */
export function HiddenFields(props: { fields: Record<string, string | undefined> }) {
  return (
    <>
      {Object.entries(props.fields).map(
        ([name, value]) => value !== undefined && <input type="hidden" name={name} value={value} />,
      )}
    </>
  );
}
