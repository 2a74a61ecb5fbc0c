import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Unit and integration tests run inside workerd with the real bindings from wrangler.toml
// (local D1, R2 and Durable Objects) and the real migrations applied in test/setup.ts.
// Two projects: most suites run as `npm start` does locally (auth off); test/auth/ runs with
// access control on, exactly as a deployment does.
const SIGNING_KEYS = "test:secret-for-tests,test-old:old-secret-for-tests";
export const TEST_ADMIN_TOKEN = "mg_test_bootstrap_admin_secret";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("migrations");
  const project = (name: string, bindings: Record<string, string>, include: string[], exclude: string[] = []) => ({
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: { bindings: { TEST_MIGRATIONS: migrations, MODELGATE_SIGNING_KEYS: SIGNING_KEYS, ...bindings } },
      }),
    ],
    test: { name, include, exclude: ["test/e2e/**", "test/browser/**", ...exclude], setupFiles: ["./test/setup.ts"] },
  });
  return {
    test: {
      projects: [
        project("local", { MODELGATE_AUTH: "off" }, ["test/**/*.test.ts"], ["test/auth/**"]),
        project("auth", { MODELGATE_AUTH: "on", MODELGATE_ADMIN_TOKEN: TEST_ADMIN_TOKEN }, ["test/auth/**/*.test.ts"]),
      ],
    },
  };
});
