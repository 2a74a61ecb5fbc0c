// A webhook receiver on 127.0.0.1 for the tests: records every request to /hook/<key> and answers
// with the responses scripted for that key (then 200). Tests in workerd drive it over HTTP
// (PUT /_script/<key>, GET /_log/<key>); Node tests call script() and log() directly.
import { createServer } from "node:http";

export async function startReceiver() {
  const logs = new Map();
  const scripts = new Map();
  const waiters = new Set();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const url = new URL(req.url, "http://receiver");
      const [, kind, key] = url.pathname.split("/");
      if (kind === "_script" && req.method === "PUT") {
        scripts.set(key, JSON.parse(body || "[]"));
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
        return;
      }
      if (kind === "_log" && req.method === "GET") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(logs.get(key) ?? []));
        return;
      }
      if (kind !== "hook" || !key) {
        res.writeHead(404).end();
        return;
      }
      const entry = { method: req.method, path: url.pathname, headers: req.headers, body, receivedAt: Date.now() };
      logs.set(key, [...(logs.get(key) ?? []), entry]);
      for (const w of waiters) w();
      const next = scripts.get(key)?.shift() ?? { status: 200, body: "ok" };
      if (next.delayMs) await new Promise((r) => setTimeout(r, next.delayMs));
      if (res.destroyed) return;
      res.writeHead(next.status, { "content-type": "text/plain", ...(next.headers ?? {}) }).end(next.body ?? "");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    hookUrl: (key) => `http://127.0.0.1:${port}/hook/${key}`,
    script: (key, responses) => scripts.set(key, [...responses]),
    log: (key) => logs.get(key) ?? [],
    /** Resolves once `predicate(log)` holds (checked on every request), or rejects after `timeoutMs`. */
    waitFor(key, predicate, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const log = logs.get(key) ?? [];
          if (predicate(log)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(log);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `receiver: condition on '${key}' not met within ${timeoutMs} ms; got ${JSON.stringify((logs.get(key) ?? []).map((e) => e.body))}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
