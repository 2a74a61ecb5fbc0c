import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import { sessionCookieName } from "../http/auth";
import type { AppEnv } from "../http/context";
import type { Health } from "../domain/health";
import { CsrfField, Time } from "./components";
import { csrfToken } from "./csrf";
import { takeFlash, type Flash } from "./flash";
import { STYLES } from "./styles";

// Progressive enhancement, the only script (every page works without it): copy buttons appear
// (they are hidden without JS), and a select marked data-switch shows the panel of its value in
// place (the compare page's metric) instead of reloading, keeping the choice in the URL.
const SCRIPT = `document.querySelectorAll("button[data-copy]").forEach(b=>{b.hidden=false;b.addEventListener("click",()=>{
const t=document.getElementById(b.dataset.copy);if(t&&navigator.clipboard)navigator.clipboard.writeText(t.textContent).then(()=>{b.textContent="Copied";setTimeout(()=>b.textContent="Copy",1500)})})});
document.querySelectorAll("select[data-switch]").forEach(s=>{const g=s.dataset.switch;s.form&&s.form.querySelectorAll("[data-noscript]").forEach(e=>e.hidden=true);
s.addEventListener("change",()=>{document.querySelectorAll("[data-panel]").forEach(p=>{if(p.dataset.panel===g)p.hidden=p.dataset.value!==s.value});
const u=new URL(location.href);u.searchParams.set(s.name,s.value);history.replaceState(null,"",u)})})`;

export interface PageShell {
  title: string;
  /** Breadcrumbs above the heading: [label, href] pairs; the last entry may have no link. */
  crumbs?: [string, string?][];
  /** The search box keeps what was searched. */
  query?: string;
}

/** With access control on: who is signed in (a token's name) and the sign-out form's CSRF token. */
type Session = { signedIn: false } | { signedIn: true; name: string; csrf: string };

function Who(props: { actor: string; session: Session | null }) {
  const session = props.session;
  if (!session) return <span class="who">acting as {props.actor}</span>;
  if (!session.signedIn) return <span class="who">not signed in</span>;
  return (
    <>
      <span class="who">signed in as {session.name}</span>
      <form method="post" action="/ui/sign-out" class="inline signout">
        <CsrfField token={session.csrf} />
        <button type="submit" class="link">
          Sign out
        </button>
      </form>
    </>
  );
}

/**
 * What /health says when it is not ok, on every page: webhooks missed changes (events the relay
 * gave up on) or the check itself failed. Counts only, as /health shows anyone; the check is the
 * MaintenanceService's, cached per isolate for 15 s, so pages do not each query the outbox.
 */
export function HealthBanner(props: { health: Health | null }) {
  const health = props.health;
  if (!health || health.status === "ok") return null;
  const undelivered = health.undeliveredEvents;
  return (
    <div class="flash error health" role="alert" id="health-banner">
      <strong>Registry degraded.</strong>{" "}
      {undelivered ? (
        <>
          {undelivered.count === 1 ? "1 registry event" : `${undelivered.count} registry events`} of{" "}
          {undelivered.models.length === 1 ? "1 model" : `${undelivered.models.length} models`} (the oldest from{" "}
          <Time ms={undelivered.oldestTimestamp} />) could not be handed to webhooks after {undelivered.sends} sends:
          webhook receivers missed these changes until an operator releases them (docs/events.md).
        </>
      ) : health.checkFailed ? (
        <>The health check could not run: {health.checkFailed}</>
      ) : null}{" "}
      {health.modelSigning ? <>Model signing is off: {health.modelSigning}; archives download unsigned. </> : null}
      <a href="/health">/health</a>
    </div>
  );
}

function Layout(
  props: PageShell & {
    nonce: string;
    flash: Flash | null;
    actor: string;
    session: Session | null;
    health: Health | null;
    children?: Child;
  },
) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Modelgate`}</title>
        <link rel="icon" href="data:," />
        <style nonce={props.nonce}>{raw(STYLES)}</style>
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href="/">
            Modelgate
          </a>
          <Who actor={props.actor} session={props.session} />
          {/* biome-ignore lint/a11y/useSemanticElements: the <search> element is too new for the browsers we support; the role says the same */}
          <form method="get" action="/" role="search">
            <label class="sr" for="q">
              Search models
            </label>
            <input id="q" type="search" name="q" value={props.query ?? ""} placeholder="Search models" />
            <button type="submit">Search</button>
          </form>
        </header>
        <main id="main">
          <HealthBanner health={props.health} />
          {props.crumbs && props.crumbs.length > 0 && (
            <p class="crumbs">
              {props.crumbs.map(([label, href], i) => (
                <>
                  {i > 0 && " / "}
                  {href ? <a href={href}>{label}</a> : <span>{label}</span>}
                </>
              ))}
            </p>
          )}
          {props.flash && (
            <div class={`flash ${props.flash.kind}`} role={props.flash.kind === "error" ? "alert" : "status"}>
              {props.flash.text}
            </div>
          )}
          {props.children}
        </main>
        <script nonce={props.nonce}>{raw(SCRIPT)}</script>
      </body>
    </html>
  );
}

/** The document and its headers: a fresh CSP nonce for the inline style and script. */
export async function renderDocument(
  c: Context<AppEnv>,
  shell: PageShell,
  body: Child,
  flash: Flash | null,
): Promise<{ html: string; headers: Record<string, string> }> {
  const nonce = toBase64(crypto.getRandomValues(new Uint8Array(16)));
  const principal = c.var.principal;
  // A sign-out button only for a cookie session: credentials the browser sends itself (HTTP Basic)
  // cannot be signed out of here, so those pages keep "acting as".
  const viaCookie = !c.req.header("authorization") && getCookie(c, sessionCookieName(c)) !== undefined;
  const session: Session | null = !c.var.services?.config.authEnabled
    ? null
    : principal
      ? viaCookie
        ? { signedIn: true, name: principal.actor, csrf: await csrfToken(c) }
        : null
      : { signedIn: false };
  // Never throws (a failed check is itself "degraded"); absent on pages rendered without services.
  const health = c.var.services ? await c.var.services.maintenance.checkHealth() : null;
  const html =
    "<!doctype html>" +
    (await (
      <Layout
        {...shell}
        nonce={nonce}
        flash={flash}
        actor={c.var.actor}
        session={session}
        health={health}
        children={body}
      />
    ).toString());
  const headers = {
    "content-type": "text/html; charset=UTF-8",
    "content-security-policy": [
      "default-src 'none'",
      `style-src 'nonce-${nonce}'`,
      `script-src 'nonce-${nonce}'`,
      "img-src 'self' data:",
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join("; "),
    // Pages are per person and change with every action: never cached.
    "cache-control": "no-store",
    "referrer-policy": "same-origin",
  };
  return { html, headers };
}

/** A page from a route handler, showing (and clearing) the pending flash message. */
export async function renderPage(
  c: Context<AppEnv>,
  shell: PageShell,
  body: Child,
  status: ContentfulStatusCode = 200,
): Promise<Response> {
  const { html, headers } = await renderDocument(c, shell, body, takeFlash(c));
  // c.body merges the cookies this request set (the CSRF nonce, the cleared flash).
  return c.body(html, status, headers);
}

function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}
