import { expect } from "vitest";
import { call, uniqueName, type Json } from "./helpers";

// Helpers for the tracking tests: each test creates its own experiments and runs.

export async function ok(method: string, path: string, params: Json = {}): Promise<Json> {
  const res = await call(method, path, params);
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function createExperiment(params: Json = {}): Promise<string> {
  const body = await ok("POST", "/experiments/create", { name: uniqueName("exp"), ...params });
  return body.experiment_id;
}

export async function createRun(experimentId: string, params: Json = {}): Promise<Json> {
  const body = await ok("POST", "/runs/create", { experiment_id: experimentId, start_time: Date.now(), ...params });
  return body.run;
}

export async function getRun(runId: string): Promise<Json> {
  return (await ok("GET", "/runs/get", { run_id: runId })).run;
}

export async function createLoggedModel(experimentId: string, params: Json = {}): Promise<Json> {
  return (await ok("POST", "/logged-models", { experiment_id: experimentId, ...params })).model;
}

/** Asserts an MLflow error answer: status, error_code, and the message (a substring or pattern). */
export function expectMlflowError(
  res: { status: number; body: Json },
  status: number,
  code: string,
  message?: string | RegExp,
): void {
  expect({ status: res.status, error_code: res.body.error_code }).toEqual({ status, error_code: code });
  expect(typeof res.body.message).toBe("string");
  if (typeof message === "string") expect(res.body.message).toContain(message);
  else if (message) expect(res.body.message).toMatch(message);
}

export const RUN_ID = /^[0-9a-f]{32}$/;
export const LOGGED_MODEL_ID = /^m-[0-9a-f]{32}$/;
