import { defineConfig } from "drizzle-kit";

// `npm run db:generate` writes a new SQL migration into migrations/ from the drizzle schema files.
export default defineConfig({
  dialect: "sqlite",
  schema: [
    "./src/repositories/schema.ts",
    "./src/repositories/tracking-schema.ts",
    "./src/repositories/auth-schema.ts",
    "./src/repositories/events-schema.ts",
    "./src/repositories/webhook-schema.ts",
    "./src/scanning/scan-schema.ts",
    "./src/repositories/answer-generation-schema.ts",
  ],
  out: "./migrations",
});
