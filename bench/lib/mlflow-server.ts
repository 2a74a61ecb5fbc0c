import { execFileSync } from "node:child_process";

/**
 * MLflow's own server through the team's reference tool (its mlflow-reference.md; path from
 * MLFLOW_REF_TOOL): `serve("start" | "stop" | ..., ...args)` runs `TOOL server HOME <action> PORT`.
 */
export const mlflowServerCommand =
  (tool: string, home: string, port: number | string) =>
  (action: string, ...args: string[]) =>
    execFileSync(tool, ["server", home, action, String(port), ...args], { encoding: "utf8", timeout: 120_000 }).trim();
