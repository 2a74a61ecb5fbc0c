import { defineConfig } from "drizzle-kit";

// `npm run db:generate` writes a new SQL migration into migrations/ from src/repositories/schema.ts.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/repositories/schema.ts",
  out: "./migrations",
});
