import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createModel, uniqueName } from "../helpers";
import { Browser, decodeEntities } from "./browser";

// The model page lists a model's versions a page at a time (100, newest first), with an "Older
// versions" link carrying the search's page token: a model with thousands of versions renders as
// fast as one with three, and walking the links shows every version exactly once.

describe("model page: versions a page at a time", () => {
  it("walks 230 versions through 'Older versions' links, newest first, each exactly once", async () => {
    const name = await createModel(uniqueName("ManyVersions"));
    const { id } = (await env.DB.prepare("SELECT id FROM registered_models WHERE name = ?").bind(name).first<{
      id: string;
    }>())!;
    // Written straight into D1 (what the page reads), as a bulk import would: 230 registrations
    // through the API would test the API, not the paging.
    const T0 = 1_700_000_000_000;
    await env.DB.batch(
      Array.from({ length: 230 }, (_, i) =>
        env.DB.prepare(
          "INSERT INTO model_versions (model_id, version, source, status, creation_time, last_updated_time) VALUES (?, ?, ?, 'READY', ?, ?)",
        ).bind(id, i + 1, `mlflow-artifacts:/paging/${i + 1}`, T0 + (i % 7), T0 + (i % 3)),
      ),
    );
    const browser = new Browser();
    const seen: number[] = [];
    let path: string | null = `/models/${encodeURIComponent(name)}`;
    let pages = 0;
    while (path) {
      const page = await browser.get(path);
      expect(page.status).toBe(200);
      pages++;
      const table = page.html.slice(page.html.indexOf("<table"), page.html.indexOf("</table>"));
      const numbers = [
        ...new Set([...table.matchAll(/href="\/models\/[^"/]+\/versions\/(\d+)"/g)].map((m) => Number(m[1]))),
      ];
      seen.push(...numbers);
      const next = /href="([^"]+)" rel="next"/.exec(page.html.slice(page.html.indexOf("Version pages") - 200));
      path = next ? decodeEntities(next[1]!) : null;
      if (pages > 1) expect(page.html).toContain("Newest versions");
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 230 }, (_, i) => 230 - i));
  });
});
