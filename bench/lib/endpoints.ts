// The four registry reads under load, each with the check that it answers what the seed wrote.
import { ALIAS, LATEST, modelName, runIdOf, sourceOf, tagsOf, VERSIONS_PER_MODEL } from "./registry-data";

const MODEL = 3;
const NAME = modelName(MODEL);
const VERSION = 312;
const SEARCH_FILTER = `name = '${NAME}' AND tags.\`team\` = 'vision'`;
const SEARCH_PAGE = 100;
/** Versions of one model tagged team = vision: every fourth. */
const SEARCH_MATCHES = Math.floor(VERSIONS_PER_MODEL / 4);

const query = (params: Record<string, string | number>) =>
  Object.entries(params)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join("&");

function expect(condition: unknown, what: string, body: unknown) {
  if (!condition) throw new Error(`unexpected answer: ${what}\n${JSON.stringify(body).slice(0, 2000)}`);
}

type Tag = { key: string; value: string };
const sameTags = (actual: Tag[] | undefined, wanted: Tag[]) =>
  JSON.stringify([...(actual ?? [])].sort((a, b) => a.key.localeCompare(b.key))) ===
  JSON.stringify([...wanted].sort((a, b) => a.key.localeCompare(b.key)));

/** A version as the reads answer it (the fields the checks look at). */
type Version = {
  name: string;
  version: string;
  current_stage: string;
  status: string;
  run_id: string;
  source: string;
  tags: Tag[];
  aliases?: string[];
};

/** A read under load: its path, and the check that its answer is what the seed wrote. */
export interface Endpoint {
  id: string;
  label: string;
  pointRead: boolean;
  filter?: string;
  path: string;
  check(body: any): void;
  checkAll?(base: string): Promise<void>;
}

export const ENDPOINTS: Endpoint[] = [
  {
    id: "get-latest-versions",
    label: "`registered-models/get-latest-versions`",
    pointRead: true,
    path: `/api/2.0/mlflow/registered-models/get-latest-versions?${query({ name: NAME })}`,
    check(body) {
      // Compared as sets of (stage, version): the order of the list is not what is checked here.
      const got = ((body.model_versions ?? []) as Version[]).map((v) => `${v.current_stage}:${v.version}`).sort();
      const wanted = Object.entries(LATEST)
        .map(([stage, v]) => `${stage}:${v}`)
        .sort();
      expect(JSON.stringify(got) === JSON.stringify(wanted), `latest per stage ${wanted.join(", ")}`, body);
      expect(
        (body.model_versions as Version[]).every((v) => v.name === NAME),
        `every version of ${NAME}`,
        body,
      );
    },
  },
  {
    id: "model-versions-get",
    label: "`model-versions/get`",
    pointRead: true,
    path: `/api/2.0/mlflow/model-versions/get?${query({ name: NAME, version: VERSION })}`,
    check(body) {
      const v = body.model_version;
      expect(v?.name === NAME && v.version === String(VERSION), `${NAME} version ${VERSION}`, body);
      expect(
        v.run_id === runIdOf(MODEL, VERSION) && v.source === sourceOf(MODEL, VERSION),
        "the seeded run_id and source",
        body,
      );
      expect(v.status === "READY" && v.current_stage === "None", "READY in stage None", body);
      expect(sameTags(v.tags, tagsOf(VERSION)), `tags ${JSON.stringify(tagsOf(VERSION))}`, body);
    },
  },
  {
    id: "alias",
    label: "`registered-models/alias` (GET)",
    pointRead: true,
    path: `/api/2.0/mlflow/registered-models/alias?${query({ name: NAME, alias: ALIAS.alias })}`,
    check(body) {
      const v = body.model_version;
      expect(
        v?.name === NAME && v.version === String(ALIAS.version),
        `@${ALIAS.alias} -> version ${ALIAS.version}`,
        body,
      );
      expect(
        v.current_stage === "Production" && (v.aliases ?? []).includes(ALIAS.alias),
        "Production, carrying the alias",
        body,
      );
    },
  },
  {
    id: "model-versions-search",
    label: "`model-versions/search`, filtered",
    pointRead: false,
    filter: SEARCH_FILTER,
    path: `/api/2.0/mlflow/model-versions/search?${query({ filter: SEARCH_FILTER, max_results: SEARCH_PAGE })}`,
    check(body) {
      const page: Version[] = body.model_versions ?? [];
      expect(
        page.length === SEARCH_PAGE && body.next_page_token,
        `a full page of ${SEARCH_PAGE} and a next_page_token`,
        body,
      );
      expect(
        page.every(
          (v) =>
            v.name === NAME &&
            Number(v.version) % 4 === 0 &&
            v.tags.some((t) => t.key === "team" && t.value === "vision"),
        ),
        `only ${NAME} versions tagged team = vision`,
        body,
      );
      expect(new Set(page.map((v) => v.version)).size === SEARCH_PAGE, "no version twice", body);
    },
    /** The whole result set, one page: exactly the versions the seed tagged so. */
    async checkAll(base) {
      const body = await getJson(
        `${base}/api/2.0/mlflow/model-versions/search?${query({ filter: SEARCH_FILTER, max_results: 1000 })}`,
      );
      expect(
        (body.model_versions ?? []).length === SEARCH_MATCHES && !body.next_page_token,
        `${SEARCH_MATCHES} matches in all`,
        body,
      );
    },
  },
];

export async function getJson(url: string): Promise<any> {
  const response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${url} -> HTTP ${response.status}: ${text.slice(0, 2000)}`);
  return JSON.parse(text);
}

/** Every endpoint answers 200 with the JSON the seed implies; run before the load. */
export async function checkEndpoints(base: string) {
  for (const e of ENDPOINTS) {
    e.check(await getJson(base + e.path));
    if (e.checkAll) await e.checkAll(base);
  }
}
