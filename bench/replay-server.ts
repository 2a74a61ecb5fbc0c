#!/usr/bin/env node
// The "ideal server" of bench:mlflow: a reference row for the ceiling any server can reach with a
// given client on this machine. It answers each request (method, URL and body) with what `--upstream`
// (ours) answered the first time it was asked, from memory: Node's http server, keep-alive, a
// Content-Length body, tens of microseconds of CPU per request. A client's time against it is
// (almost) all client time, so MLflow's time over the ideal's is the best ratio reachable.
//
//   node --import tsx bench/replay-server.ts --upstream http://127.0.0.1:8880 --port 8882
//
// GET /_replay/stats answers {recorded, replayed, forwarded, failed}: `forwarded` counts the requests
// that went to the upstream (each distinct request once while recording, unless two arrived at once),
// `failed` those the upstream answered with an error (passed on, never replayed). Bound to 127.0.0.1; stops on SIGTERM/SIGINT.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";

/** A recorded answer: status, content type and body. */
interface Answer {
  status: number;
  type: string;
  body: Buffer;
}

/** A running replay server. */
export interface ReplayServer {
  base: string;
  stats: { recorded: number; replayed: number; forwarded: number; failed: number };
  close(): Promise<void>;
}

/** Starts a replay server; resolves once it listens, with its base URL, stats and a close(). */
export function startReplayServer({
  upstream,
  port = 0,
  host = "127.0.0.1",
}: {
  upstream: string;
  port?: number;
  host?: string;
}): Promise<ReplayServer> {
  const answers = new Map<string, Answer>();
  const stats = { recorded: 0, replayed: 0, forwarded: 0, failed: 0 };
  const server = http.createServer(async (req, res) => {
    try {
      if (req.method === "GET" && req.url === "/_replay/stats") return send(res, json(stats));
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk);
      const body = Buffer.concat(chunks);
      const key = `${req.method} ${req.url} ${body.toString("latin1")}`;
      let answer = answers.get(key);
      if (answer) stats.replayed++;
      else {
        answer = await record(upstream, req, body);
        stats.forwarded++;
        // Only what the upstream answered well is replayed; an error is passed on and asked again.
        if (answer.status >= 400) stats.failed++;
        else if (!answers.has(key)) {
          answers.set(key, answer);
          stats.recorded++;
        }
      }
      send(res, answer);
    } catch (error) {
      send(res, { status: 502, type: "text/plain", body: Buffer.from(String(error)) });
    }
  });
  // Clients keep their connections; the default 5 s would close idle ones between passes.
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const address = server.address() as AddressInfo;
      resolve({
        base: `http://${host}:${address.port}`,
        stats,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

async function record(upstream: string, req: http.IncomingMessage, body: Buffer): Promise<Answer> {
  const headers: Record<string, string> = {};
  for (const name of ["content-type", "accept", "range"]) {
    const value = req.headers[name];
    if (typeof value === "string" && value) headers[name] = value;
  }
  const res = await fetch(upstream + req.url, {
    method: req.method,
    headers,
    body: req.method === "GET" || req.method === "HEAD" ? undefined : (body as Uint8Array<ArrayBuffer>),
  });
  return {
    status: res.status,
    type: res.headers.get("content-type") ?? "application/octet-stream",
    body: Buffer.from(await res.arrayBuffer()),
  };
}

function json(value: unknown): Answer {
  return { status: 200, type: "application/json", body: Buffer.from(JSON.stringify(value)) };
}

function send(res: http.ServerResponse, answer: Answer) {
  res.writeHead(answer.status, { "content-type": answer.type, "content-length": answer.body.length });
  res.end(answer.body);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { upstream: { type: "string" }, port: { type: "string" } } });
  if (!values.upstream) {
    console.error("usage: node --import tsx bench/replay-server.ts --upstream <base URL> [--port <port>]");
    process.exit(2);
  }
  const server = await startReplayServer({ upstream: values.upstream, port: Number(values.port ?? 0) });
  console.log(`replaying ${values.upstream} on ${server.base}`);
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => void server.close().then(() => process.exit(0)));
}
