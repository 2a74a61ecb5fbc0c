import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Unit and integration tests run inside workerd with the real bindings from wrangler.toml
// (local D1, R2 and Durable Objects) and the real migrations applied in test/setup.ts.
export default defineConfig(async () => {
  const migrations = await readD1Migrations("migrations");
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: { bindings: { TEST_MIGRATIONS: migrations, MODELGATE_SIGNING_KEYS: "test:secret-for-tests,test-old:old-secret-for-tests" } },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      exclude: ["test/e2e/**"],
      setupFiles: ["./test/setup.ts"],
    },
  };
});
