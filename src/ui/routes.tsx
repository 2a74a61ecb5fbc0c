import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { RegistryError } from "../errors";
import { STATUS_BY_CODE } from "../http/error-codes";
import type { AppEnv } from "../http/context";
import { actionRoutes } from "./action-routes";
import { setFlash } from "./flash";
import { renderDocument } from "./layout";
import { pageRoutes } from "./page-routes";
import { ErrorPage, errorTitle } from "./pages/error-page";
import { clearSession, hasSession, sessionRoutes, signInHref } from "./session";

// The web UI: server-rendered pages at `/` and `/models/...`, form targets under `/ui/actions/`,
// sign-in and sign-out at `/ui/sign-in` and `/ui/sign-out`.
// Mounted by createApp at `/`; every route carries the same access guard as the API.

/** Browsers get error pages; other clients keep the API's `{error_code, message}`. */
const wantsHtml = (c: Context) => (c.req.header("accept") ?? "").includes("text/html");

/** Where a browser refused for want of credentials comes back to after signing in. */
function returnPath(c: Context): string {
  const url = new URL(c.req.url);
  if (c.req.method === "GET" || c.req.method === "HEAD") return `${url.pathname}${url.search}`;
  // A form post cannot be replayed: go back to the model it was about.
  const model = /^\/ui\/actions\/models\/([^/]+)\//.exec(url.pathname);
  return model ? `/models/${model[1]}` : "/";
}

/**
 * Turns an error the app's one error handler already answered (as JSON) into an HTML page for
 * browsers. Runs around the UI's routes only. With access control on, a browser without (valid)
 * credentials is sent to the sign-in page instead.
 */
const htmlErrors: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const error = c.error;
  if (!error || !wantsHtml(c)) return;
  const status =
    error instanceof RegistryError ? STATUS_BY_CODE[error.code] : error instanceof HTTPException ? error.status : 500;
  // Registry errors are written for people; anything else stays in the log.
  const message =
    status < 500 || (error instanceof RegistryError && error.code !== "INTERNAL_ERROR")
      ? error.message
      : "The server failed while answering this page.";
  if (status === 401 && c.var.services?.config.authEnabled) {
    const stale = hasSession(c);
    c.res = undefined;
    c.res = new Response(null, {
      status: 303,
      headers: { location: signInHref(returnPath(c)), "cache-control": "no-store" },
    });
    // A cookie whose token is no longer accepted (revoked, expired) is forgotten, with a word why.
    if (stale) {
      clearSession(c);
      setFlash(c, { kind: "error", text: `Please sign in again: ${message}` });
    }
    return;
  }
  const { html, headers } = await renderDocument(
    c,
    { title: errorTitle(status) },
    <ErrorPage status={status} message={message} />,
    null,
  );
  // c.body keeps cookies set while rendering (the CSRF nonce behind the sign-out form); the
  // error's JSON body and content type are replaced.
  c.res = c.body(html, status as ContentfulStatusCode, headers);
};

/** The largest form: a description or tag value is at most 5,000 characters. */
const MAX_FORM_BYTES = 64 * 1024;

export const uiRoutes = new Hono<AppEnv>();
for (const path of ["/", "/models", "/models/*", "/ui/*"]) uiRoutes.use(path, htmlErrors);
for (const path of ["/ui/actions/*", "/ui/sign-in", "/ui/sign-out"]) {
  uiRoutes.use(
    path,
    bodyLimit({
      maxSize: MAX_FORM_BYTES,
      onError: () => {
        throw new RegistryError("INVALID_PARAMETER_VALUE", `The form is larger than ${MAX_FORM_BYTES / 1024} KiB.`);
      },
    }),
  );
}
uiRoutes.route("/", sessionRoutes);
uiRoutes.route("/", pageRoutes);
uiRoutes.route("/", actionRoutes);
