// The one error hierarchy. Domain code throws these; only src/http/error-handler.ts turns them into
// MLflow's `{error_code, message}` and an HTTP status.

export const ERROR_CODES = [
  "INVALID_PARAMETER_VALUE",
  "BAD_REQUEST",
  "RESOURCE_ALREADY_EXISTS",
  "UNAUTHENTICATED",
  "PERMISSION_DENIED",
  "RESOURCE_DOES_NOT_EXIST",
  "ENDPOINT_NOT_FOUND",
  "RESOURCE_CONFLICT",
  "REQUEST_LIMIT_EXCEEDED",
  "INTERNAL_ERROR",
  "INVALID_STATE",
  "NOT_IMPLEMENTED",
  "TEMPORARILY_UNAVAILABLE",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class RegistryError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "RegistryError";
  }
}

export class InvalidParameterError extends RegistryError {
  constructor(message: string) {
    super("INVALID_PARAMETER_VALUE", message);
  }
}

export class NotFoundError extends RegistryError {
  constructor(message: string) {
    super("RESOURCE_DOES_NOT_EXIST", message);
  }
}

export class AlreadyExistsError extends RegistryError {
  constructor(message: string) {
    super("RESOURCE_ALREADY_EXISTS", message);
  }
}

export const modelNotFound = (name: string) => new NotFoundError(`Registered Model with name=${name} not found`);

export const versionNotFound = (name: string, version: number | string) =>
  new NotFoundError(`Model Version (name=${name}, version=${version}) not found`);

export const modelAlreadyExists = (name: string) =>
  new AlreadyExistsError(`Registered Model (name=${name}) already exists.`);

export const experimentNotFound = (experimentId: string) =>
  new NotFoundError(`No Experiment with id=${experimentId} exists`);

export const experimentNameNotFound = (name: string) =>
  new NotFoundError(`Could not find experiment with name '${name}'`);

export const experimentAlreadyExists = (name: string) =>
  new AlreadyExistsError(`Experiment(name=${name}) already exists.`);

export const runNotFound = (runId: string) => new NotFoundError(`Run with id=${runId} not found`);

export const loggedModelNotFound = (modelId: string) =>
  new NotFoundError(`Logged model with ID '${modelId}' not found.`);
