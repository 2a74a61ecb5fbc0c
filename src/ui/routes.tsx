import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { RegistryError } from "../errors";
import { STATUS_BY_CODE } from "../http/error-codes";
import type { AppEnv } from "../http/context";
import { actionRoutes } from "./action-routes";
import { renderDocument } from "./layout";
import { pageRoutes } from "./page-routes";
import { ErrorPage, errorTitle, SignInHint } from "./pages/error-page";

// The web UI: server-rendered pages at `/` and `/models/...`, form targets under `/ui/actions/`.
// Mounted by createApp at `/`; every route carries the same access guard as the API.

/** Browsers get error pages; other clients keep the API's `{error_code, message}`. */
const wantsHtml = (c: Context) => (c.req.header("accept") ?? "").includes("text/html");

/**
 * Turns an error the app's one error handler already answered (as JSON) into an HTML page for
 * browsers. Runs around the UI's routes only.
 */
const htmlErrors: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const error = c.error;
  if (!error || !wantsHtml(c)) return;
  const status = error instanceof RegistryError ? STATUS_BY_CODE[error.code] : error instanceof HTTPException ? error.status : 500;
  // Registry errors are written for people; anything else stays in the log.
  const message = status < 500 || (error instanceof RegistryError && error.code !== "INTERNAL_ERROR") ? error.message : "The server failed while answering this page.";
  const signIn = status === 401 && c.var.services?.config.authEnabled;
  const { html, headers } = await renderDocument(c, { title: errorTitle(status) }, <ErrorPage status={status} message={message} hint={signIn ? <SignInHint /> : undefined} />, null);
  const response = new Response(html, { status, headers });
  // Until the sign-in page exists, the browser's own prompt collects a token (as the password).
  if (signIn) response.headers.set("www-authenticate", 'Basic realm="Modelgate", charset="UTF-8"');
  c.res = undefined;
  c.res = response;
};

/** The largest form: a description or tag value is at most 5,000 characters. */
const MAX_FORM_BYTES = 64 * 1024;

export const uiRoutes = new Hono<AppEnv>();
for (const path of ["/", "/models", "/models/*", "/ui/*"]) uiRoutes.use(path, htmlErrors);
uiRoutes.use(
  "/ui/actions/*",
  bodyLimit({
    maxSize: MAX_FORM_BYTES,
    onError: () => {
      throw new RegistryError("INVALID_PARAMETER_VALUE", `The form is larger than ${MAX_FORM_BYTES / 1024} KiB.`);
    },
  }),
);
uiRoutes.route("/", pageRoutes);
uiRoutes.route("/", actionRoutes);
