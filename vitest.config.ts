import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Unit and integration tests run inside workerd with the real bindings from wrangler.toml
// (local D1, R2 and Durable Objects) and the real migrations applied in test/setup.ts.
// Two projects: most suites run as `npm start` does locally (auth off); test/auth/ runs with
// access control on, exactly as a deployment does.
const SIGNING_KEYS = "test:secret-for-tests,test-old:old-secret-for-tests";
// Webhook secrets at rest (docs/webhooks.md): two keys, the second standing for an older one, so
// rotation is exercised (test/webhooks/secrets.test.ts).
const WEBHOOK_KEYS = `test:${"1f".repeat(32)},test-old:${"2e".repeat(32)}`;
// Model-signing keys (docs/supply-chain.md), test-only: the first signs; the second is a retired
// key kept as a public JWK only (it verifies older signatures, never signs), so rotation is exercised.
const MODEL_SIGNING_KEYS = JSON.stringify([
  {
    kid: "test",
    pkcs8:
      "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgcIYtW/YVXVXRPfnHQKaNaNKDY8xfHtOl9bJyw6LQglyhRANCAARjNwuqsPq3O7RXKZ7iiOo1682HzZqNd9JYqK5NyuPY1U5qQA//0FF2fPxI7xZtIF0OBUTZ4ZpY3cTJ3NiqgZiE",
  },
  {
    kid: "test-old",
    jwk: {
      kty: "EC",
      crv: "P-256",
      x: "u5ODexiVjrRZdElKyaO9VSmFaACVaLxzr3uu_e5j9PM",
      y: "0kszCUTvvb8HwPS8_z43hEfUIDf4dRWvDoz-IyQwOn4",
    },
  },
]);
export const TEST_ADMIN_TOKEN = "mg_test_bootstrap_admin_secret";
// Webhooks in tests: the local receiver is on loopback, and retries come after a second, not 30.
// The deployment default scan rule (wrangler.toml) off: suites promote versions whose files are
// not real models; test/policies/scan-policy.test.ts holds the rule and the default to account.
// Background scans off too: a verdict landing in the middle of a test would add a
// model_version.scanned event to outboxes and snapshots the test compares exactly; the scan tests
// run the queue's consumer themselves (consumeScans), as the platform would.
const SCAN_POLICY = { MODELGATE_DEFAULT_SCAN_POLICY: "off", MODELGATE_BACKGROUND_SCANS: "off" };
const WEBHOOKS = {
  MODELGATE_WEBHOOK_ALLOW_HOSTS: "127.0.0.1,localhost,::1",
  MODELGATE_WEBHOOK_RETRY_BASE_SECONDS: "1",
  MODELGATE_WEBHOOK_TIMEOUT_SECONDS: "2",
};

// vitest-pool-workers 0.15.1 (the one built on the miniflare and wrangler `npm start` uses) prints
// workerd's note that its runner's WebSocket closed when a run ends; later releases of the pool list
// that message among the runtime logs they drop (its `ignoreMessages`). Drop exactly that line.
const RUNNER_SOCKET_CLOSED =
  /^exception = workerd\/api\/web-socket\.c\+\+:\d+: disconnected: WebSocket peer disconnected\n$/;
const write = process.stdout.write.bind(process.stdout) as (...args: unknown[]) => boolean;
process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
  if (typeof chunk !== "string" || !RUNNER_SOCKET_CLOSED.test(chunk)) return write(chunk, ...rest);
  const done = rest.at(-1);
  if (typeof done === "function") done();
  return true;
}) as typeof process.stdout.write;

export default defineConfig(async () => {
  const migrations = await readD1Migrations("migrations");
  const project = (name: string, bindings: Record<string, string>, include: string[], exclude: string[] = []) => ({
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            MODELGATE_SIGNING_KEYS: SIGNING_KEYS,
            MODELGATE_WEBHOOK_KEYS: WEBHOOK_KEYS,
            MODELGATE_MODEL_SIGNING_KEYS: MODEL_SIGNING_KEYS,
            ...WEBHOOKS,
            ...SCAN_POLICY,
            ...bindings,
          },
        },
      }),
    ],
    test: {
      name,
      include,
      exclude: ["test/e2e/**", "test/browser/**", ...exclude],
      setupFiles: ["./test/setup.ts"],
      // A cap, not a speed check: on a shared 2-core CI machine the 50-way concurrency tests take
      // several seconds while everything else runs too.
      testTimeout: 60_000,
      // A webhook receiver on 127.0.0.1 (test/webhooks/receiver.mjs); tests read its URL with inject().
      globalSetup: ["./test/webhooks/receiver.global.mjs"],
    },
  });
  return {
    test: {
      // Vitest's default on a 2-core machine is one worker (cores - 1); much of a file's time is
      // waiting on workerd (queues, retries, Durable Object round trips), so two overlap well.
      maxWorkers: 2,
      projects: [
        project("local", { MODELGATE_AUTH: "off" }, ["test/**/*.test.ts"], ["test/auth/**"]),
        project("auth", { MODELGATE_AUTH: "on", MODELGATE_ADMIN_TOKEN: TEST_ADMIN_TOKEN }, ["test/auth/**/*.test.ts"]),
      ],
    },
  };
});
