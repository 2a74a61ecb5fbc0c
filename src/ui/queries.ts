import type { ModelVersion, Page } from "../domain/model";
import type { Principal } from "../domain/principal";
import type { RegistryService } from "../services/registry-service";

// The UI asks the registry through its public search, with filters built here. MLflow's filter
// strings have no escape for quotes, so a quote the text cannot be wrapped around becomes the
// single-character wildcard `_`, and exact matches are re-checked on the result.

function quoted(text: string): string | null {
  if (!text.includes("'")) return `'${text}'`;
  if (!text.includes('"')) return `"${text}"`;
  return null;
}

/** `name ILIKE '%text%'`: names containing the text, any case (`%` and `_` act as wildcards). */
export function nameContains(text: string): string {
  const pattern = `%${text}%`;
  return `name ILIKE ${quoted(pattern) ?? `'${pattern.replace(/['"]/g, "_")}'`}`;
}

export const VERSIONS_PAGE = 100;

/** One page of a model's versions, newest first. */
export async function versionsOf(
  registry: RegistryService,
  viewer: Principal,
  name: string,
  pageToken?: string,
  maxResults = VERSIONS_PAGE,
): Promise<Page<ModelVersion>> {
  const exact = quoted(name);
  const filter = exact ? `name = ${exact}` : `name LIKE '${name.replace(/['"]/g, "_")}'`;
  const page = await registry.searchVersions({
    visibleTo: viewer,
    filter,
    orderBy: ["version_number DESC"],
    maxResults,
    pageToken,
  });
  return exact ? page : { ...page, items: page.items.filter((v) => v.name === name) };
}
