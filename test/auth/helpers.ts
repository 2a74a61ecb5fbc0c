import { env, exports } from "cloudflare:workers";

export const ADMIN = "mg_test_bootstrap_admin_secret";
export const ORIGIN = "http://modelgate.test";

export type Reply = { status: number; body: Record<string, any> };

/** A request as the MLflow client makes it, with optional credentials. */
export async function send(
  method: string,
  path: string,
  params: Record<string, unknown> = {},
  authorization?: string,
  extraHeaders: Record<string, string> = {},
): Promise<Reply> {
  let url = `${ORIGIN}${path}`;
  const headers: Record<string, string> = { "content-type": "application/json", ...extraHeaders };
  if (authorization) headers.authorization = authorization;
  const init: RequestInit = { method, headers };
  if (method === "GET" || method === "HEAD") {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) query.append(k, String(v));
    if ([...query].length) url += `?${query}`;
  } else {
    init.body = JSON.stringify(params);
  }
  const res = await exports.default.fetch(new Request(url, init));
  const text = await res.text();
  let body: Record<string, any> = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { raw: text };
  }
  return { status: res.status, body };
}

export const bearer = (secret: string) => `Bearer ${secret}`;
export const basic = (user: string, secret: string) => `Basic ${btoa(`${user}:${secret}`)}`;

export async function createToken(spec: {
  name: string;
  scopes: string[];
  models?: string[];
  expires_in?: number;
}): Promise<string> {
  const res = await send("POST", "/api/2.0/modelgate/tokens", spec, bearer(ADMIN));
  if (res.status !== 200) throw new Error(`token ${spec.name}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.secret as string;
}

/** Row counts of every table: a refused request must leave all of them as they were. */
export async function tableCounts(): Promise<Record<string, number>> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 4) != '_cf_' AND name NOT IN ('d1_migrations', 'audit_events', 'api_tokens')",
  ).all<{ name: string }>();
  const counts: Record<string, number> = {};
  for (const { name } of tables.results) {
    counts[name] = (await env.DB.prepare(`SELECT count(*) AS n FROM "${name}"`).first<{ n: number }>())!.n;
  }
  return counts;
}

let clientCounter = 0;
/** A distinct client address, so one test's failed logins do not use up another's budget. */
export function clientAddress(): Record<string, string> {
  clientCounter += 1;
  return { "cf-connecting-ip": `198.51.100.${clientCounter % 250}` };
}
