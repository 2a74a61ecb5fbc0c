import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { safeNext } from "../../src/ui/session";
import { ADMIN, clientAddress, createToken } from "./helpers";

const HTTP = "http://modelgate.test";
const HTTPS = "https://modelgate.test";

interface Page {
  status: number;
  html: string;
  headers: Headers;
}

/** A browser with cookies, its own client address, and no redirect following. */
class Browser {
  readonly cookies = new Map<string, string>();
  private readonly address = clientAddress();
  constructor(private readonly origin = HTTP) {}

  get(path: string): Promise<Page> {
    return this.send(
      new Request(`${this.origin}${path}`, { headers: this.headers({ accept: "text/html" }), redirect: "manual" }),
    );
  }

  post(path: string, fields: Record<string, string>): Promise<Page> {
    const headers = this.headers({
      accept: "text/html",
      "content-type": "application/x-www-form-urlencoded",
      origin: this.origin,
      "sec-fetch-site": "same-origin",
    });
    return this.send(
      new Request(`${this.origin}${path}`, {
        method: "POST",
        headers,
        body: new URLSearchParams(fields).toString(),
        redirect: "manual",
      }),
    );
  }

  /** A JSON API call carrying only this browser's cookies. */
  api(path: string): Promise<Response> {
    return exports.default.fetch(
      new Request(`${this.origin}${path}`, { headers: this.headers({ accept: "application/json" }) }),
    );
  }

  async signIn(token: string, next = "/"): Promise<Page> {
    const page = await this.get(`/ui/sign-in?next=${encodeURIComponent(next)}`);
    return this.post("/ui/sign-in", { _csrf: csrfOf(page.html), token, next });
  }

  private headers(base: Record<string, string>): Headers {
    const headers = new Headers({ ...base, ...this.address });
    if (this.cookies.size > 0) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    return headers;
  }

  private async send(request: Request): Promise<Page> {
    const res = await exports.default.fetch(request);
    for (const line of res.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const at = pair.indexOf("=");
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, html: await res.text(), headers: res.headers };
  }
}

function csrfOf(html: string): string {
  const match = /name="_csrf" value="([0-9a-f]{64})"/.exec(html);
  if (!match) throw new Error(`no CSRF token in the page:\n${html.slice(0, 400)}`);
  return match[1]!;
}

const sessionCookie = (res: Page, name = "mg_session") =>
  res.headers.getSetCookie().find((line) => line.startsWith(`${name}=`));

describe("UI sign-in", () => {
  it("sends a browser without credentials to the sign-in page, keeping where it was going", async () => {
    const browser = new Browser();
    const page = await browser.get("/models/Some-Model?versions_page=x");
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe(
      `/ui/sign-in?next=${encodeURIComponent("/models/Some-Model?versions_page=x")}`,
    );
    expect(page.headers.get("www-authenticate")).toBeNull();
    const home = await browser.get("/");
    expect(home.status).toBe(303);
    expect(home.headers.get("location")).toBe("/ui/sign-in");
  });

  it("renders the sign-in page: a password field and a CSRF-protected form", async () => {
    const page = await new Browser().get("/ui/sign-in?next=%2Fmodels%2FA");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.html).toContain('type="password"');
    expect(page.html).toContain('action="/ui/sign-in"');
    expect(page.html).toContain('name="next" value="/models/A"');
    expect(csrfOf(page.html)).toMatch(/^[0-9a-f]{64}$/);
    expect(page.html).toContain("not signed in");
  });

  it("keeps a good token in an HttpOnly, SameSite cookie that the next page accepts on its own", async () => {
    const secret = await createToken({ name: "ui-reader", scopes: ["read"] });
    const browser = new Browser();
    const done = await browser.signIn(secret, "/models/Whatever");
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe("/models/Whatever");
    const cookie = sessionCookie(done)!;
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Lax/i);
    expect(cookie).toMatch(/; Path=\//i);
    expect(cookie).not.toMatch(/; Secure/i); // plain http (local development)
    const home = await browser.get("/");
    expect(home.status).toBe(200);
    expect(home.html).toContain("signed in as ui-reader");
    expect(home.html).toContain('action="/ui/sign-out"');
  });

  it("uses a __Host- Secure cookie over https", async () => {
    const browser = new Browser(HTTPS);
    const done = await browser.signIn(ADMIN);
    expect(done.status).toBe(303);
    const cookie = sessionCookie(done, "__Host-mg_session")!;
    expect(cookie).toMatch(/; Secure/i);
    expect(cookie).toMatch(/; HttpOnly/i);
    expect((await browser.get("/")).status).toBe(200);
  });

  it("answers a bad token with a 401 page and no cookie", async () => {
    const browser = new Browser();
    const page = await browser.signIn("mg_not_a_real_token");
    expect(page.status).toBe(401);
    expect(page.html).toContain("Sign-in failed");
    expect(page.html).toContain('type="password"');
    expect(sessionCookie(page)).toBeUndefined();
    expect(browser.cookies.has("mg_session")).toBe(false);
    expect((await browser.get("/")).status).toBe(303);
  });

  it("refuses a sign-in form without its CSRF token", async () => {
    const page = await new Browser().post("/ui/sign-in", { token: ADMIN, next: "/" });
    expect(page.status).toBe(403);
    expect(sessionCookie(page)).toBeUndefined();
  });

  it("never accepts the cookie on the JSON API", async () => {
    const browser = new Browser();
    await browser.signIn(ADMIN);
    expect(browser.cookies.has("mg_session")).toBe(true);
    for (const path of [
      "/api/2.0/mlflow/registered-models/search",
      "/ajax-api/2.0/mlflow/registered-models/search",
      "/api/2.0/modelgate/tokens",
    ]) {
      const res = await browser.api(path);
      expect(res.status, path).toBe(401);
      expect(((await res.json()) as { error_code: string }).error_code).toBe("UNAUTHENTICATED");
    }
  });

  it("signs out with a CSRF-protected form that clears the cookie", async () => {
    const browser = new Browser();
    await browser.signIn(ADMIN);
    const home = await browser.get("/");
    expect(home.status).toBe(200);
    expect((await browser.post("/ui/sign-out", {})).status).toBe(403);
    expect(browser.cookies.has("mg_session")).toBe(true);
    const out = await browser.post("/ui/sign-out", { _csrf: csrfOf(home.html) });
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/ui/sign-in");
    expect(sessionCookie(out)).toMatch(/Max-Age=0/i);
    expect(browser.cookies.has("mg_session")).toBe(false);
    const after = await browser.get("/ui/sign-in");
    expect(after.html).toContain("Signed out.");
    expect((await browser.get("/")).status).toBe(303);
  });

  it("forgets a cookie whose token was revoked and asks to sign in again", async () => {
    const name = `ui-revoked-${crypto.randomUUID().slice(0, 8)}`;
    const created = await exports.default.fetch(
      new Request(`${HTTP}/api/2.0/modelgate/tokens`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
        body: JSON.stringify({ name, scopes: ["read"] }),
      }),
    );
    const { secret, token } = (await created.json()) as { secret: string; token: { id: string } };
    const browser = new Browser();
    await browser.signIn(secret);
    expect((await browser.get("/")).status).toBe(200);
    const revoked = await exports.default.fetch(
      new Request(`${HTTP}/api/2.0/modelgate/tokens/${token.id}`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${ADMIN}` },
      }),
    );
    expect(revoked.status).toBe(200);
    const page = await browser.get("/");
    expect(page.status).toBe(303);
    expect(browser.cookies.has("mg_session")).toBe(false);
    expect((await browser.get("/ui/sign-in")).html).toContain("Please sign in again");
  });

  it("goes only to paths on this site after signing in", async () => {
    for (const evil of [
      "https://evil.example/",
      "//evil.example/x",
      "/\\evil.example",
      "http:/evil",
      "javascript:alert(1)",
      "/\tx",
      "",
    ]) {
      expect(safeNext(evil), evil).toBe("/");
      const page = await new Browser().signIn(ADMIN, evil);
      expect(page.headers.get("location"), evil).toBe("/");
    }
    expect(safeNext("/models/A?versions=1,2")).toBe("/models/A?versions=1,2");
    const shown = await new Browser().get(`/ui/sign-in?next=${encodeURIComponent("https://evil.example/")}`);
    expect(shown.html).toContain('name="next" value="/"');
  });
});
