// The data the registry is measured on: 16 registered models x 625 versions = 10,000 versions,
// created over HTTP, then stage transitions and an alias. Everything is a pure function of the model
// and version number, so the checks below know exactly what each endpoint must answer.

export const MODELS = 16;
export const VERSIONS_PER_MODEL = 625;
export const TOTAL_VERSIONS = MODELS * VERSIONS_PER_MODEL;

export const modelName = (m: number) => `bench-${m}`;
export const runIdOf = (m: number, v: number) => `run-${m}-${Math.floor((v - 1) / 5)}`;
export const sourceOf = (m: number, v: number) => `s3://bench-artifacts/${modelName(m)}/${v}/model`;

/** Every even version carries tags: team = vision (v % 4 == 0) or ranking, and a dataset. */
export function tagsOf(v: number): { key: string; value: string }[] {
  if (v % 2 !== 0) return [];
  return [
    { key: "team", value: v % 4 === 0 ? "vision" : "ranking" },
    { key: "dataset", value: `d-${v % 7}` },
  ];
}

// Per model, in this order: 600 -> Production, 610 -> Staging, 620 -> Production (archives 600).
export const TRANSITIONS = [
  { version: 600, stage: "Production" },
  { version: 610, stage: "Staging" },
  { version: 620, stage: "Production" },
];
export const ALIAS = { alias: "champion", version: 620 };
/** What get-latest-versions must answer once seeded: per stage, the highest READY version. */
export const LATEST = { None: 625, Staging: 610, Production: 620, Archived: 600 };

/** A failure below HTTP: the connection was reset or refused, or the request timed out. */
class TransportError extends Error {}

async function call(base: string, method: string, route: string, body?: unknown): Promise<any> {
  const url = `${base}/api/2.0/mlflow/${route}`;
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method,
      headers: { "content-type": "application/json" },
      body: method === "GET" ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    text = await response.text();
  } catch (caught) {
    const error = caught as Error & { cause?: { code?: string; message?: string } };
    throw new TransportError(
      `${method} ${route}: ${error.message} (${error.cause?.code ?? error.cause?.message ?? "no cause"})`,
    );
  }
  if (response.status !== 200)
    throw new Error(`${method} ${route} ${JSON.stringify(body)} -> HTTP ${response.status}: ${text}`);
  return JSON.parse(text);
}

/**
 * Creates version `v` of model `m`. A create is not idempotent, so when the connection fails under
 * it (see docs/benchmarks.md, "Known problems") the registry is asked whether version `v` exists
 * with this version's source before the create is sent again, once.
 */
async function createVersion(base: string, m: number, v: number, onTransportRetry: (error: Error) => void) {
  const body = { name: modelName(m), source: sourceOf(m, v), run_id: runIdOf(m, v), tags: tagsOf(v) };
  let reply;
  try {
    reply = await call(base, "POST", "model-versions/create", body);
  } catch (error) {
    if (!(error instanceof TransportError)) throw error;
    onTransportRetry(error);
    const found = await call(
      base,
      "GET",
      `model-versions/get?name=${encodeURIComponent(modelName(m))}&version=${v}`,
    ).catch((e) => {
      if (e instanceof TransportError) throw e;
      return null; // not there: the create never landed
    });
    reply =
      found?.model_version?.source === body.source ? found : await call(base, "POST", "model-versions/create", body);
  }
  if (reply.model_version.version !== String(v)) {
    throw new Error(`${modelName(m)}: expected version ${v}, the registry allocated ${reply.model_version.version}`);
  }
}

/**
 * Seeds the registry. Versions of one model are created one after another (so version n gets the
 * tags and run id written for n), and all models at once: MODELS requests in flight. Bounded by
 * `deadlineMs`; the first failed request fails the whole seed (a dropped connection gets one retry).
 */
export async function seedRegistry(
  base: string,
  { deadlineMs, log }: { deadlineMs: number; log: (message: string) => void },
) {
  const deadline = Date.now() + deadlineMs;
  const started = Date.now();
  for (let m = 0; m < MODELS; m++) {
    await call(base, "POST", "registered-models/create", {
      name: modelName(m),
      description: "modelgate benchmark model",
      tags: [{ key: "owner", value: "bench" }],
    });
  }
  let created = 0;
  const transportRetries: string[] = [];
  const progress = setInterval(() => log(`  ${created} of ${TOTAL_VERSIONS} versions created`), 10_000);
  try {
    await Promise.all(
      Array.from({ length: MODELS }, async (_, m) => {
        for (let v = 1; v <= VERSIONS_PER_MODEL; v++) {
          if (Date.now() > deadline)
            throw new Error(`seeding overran its ${deadlineMs / 1000}s bound at ${created} versions`);
          await createVersion(base, m, v, (error) => {
            transportRetries.push(`${modelName(m)} v${v}: ${error.message}`);
            log(`  connection failed under ${modelName(m)} v${v} (${error.message}); checking, then retrying once`);
          });
          created++;
        }
      }),
    );
  } finally {
    clearInterval(progress);
  }
  const versionsSec = (Date.now() - started) / 1000;
  await Promise.all(
    Array.from({ length: MODELS }, async (_, m) => {
      for (const t of TRANSITIONS) {
        await call(base, "POST", "model-versions/transition-stage", {
          name: modelName(m),
          version: String(t.version),
          stage: t.stage,
          archive_existing_versions: false,
        });
      }
      await call(base, "POST", "registered-models/alias", {
        name: modelName(m),
        alias: ALIAS.alias,
        version: String(ALIAS.version),
      });
    }),
  );
  return {
    models: MODELS,
    versions: created,
    inFlight: MODELS,
    versionsSeconds: versionsSec,
    versionsPerSecond: created / versionsSec,
    transportRetries,
    totalSeconds: (Date.now() - started) / 1000,
  };
}
