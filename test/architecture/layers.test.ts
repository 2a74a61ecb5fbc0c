import { describe, expect, it } from "vitest";

// The arrows allowed between src/'s modules (docs/architecture.md draws them). Every import, types
// included, must point down this table: a module may import only the modules it lists ("x (types)":
// only `import type` from x). Read from the source text itself (Vite's raw glob), so a new file or a
// new import is checked the day it lands.

/** Everything a service may use: the modules below the services layer. */
const BELOW_SERVICES = [
  "domain",
  "errors",
  "repositories",
  "artifacts",
  "signing",
  "events",
  "webhooks",
  "scanning",
  "maintenance",
  "coordinator",
  "delivery",
] as const;

const ALLOWED: Record<string, readonly string[]> = {
  errors: [],
  domain: ["errors"],
  repositories: ["domain", "errors"],
  artifacts: ["domain", "errors"],
  signing: ["domain", "errors"],
  events: ["domain", "errors", "repositories"],
  webhooks: ["domain", "errors", "repositories", "events"],
  scanning: ["domain", "errors", "repositories", "artifacts", "events"],
  maintenance: ["domain", "errors", "repositories", "events"],
  coordinator: ["domain", "errors", "repositories", "events", "scanning"],
  // The read path's caches: what is cached where, and what a coordinator's reported change purges.
  delivery: ["domain", "errors", "artifacts", "coordinator (types)"],
  services: BELOW_SERVICES,
  // Routes and pages receive the services the composition root built (its type, never its code).
  http: ["domain", "errors", "signing", "services", "delivery", "composition (types)"],
  ui: ["domain", "errors", "services", "http", "composition (types)"],
  // The composition root (services.ts, composition/) builds everything below the routes; the
  // entry points (app.ts, index.ts) put the routes on it.
  composition: [...BELOW_SERVICES, "services"],
  app: ["domain", "errors", "composition", "http", "ui"],
  index: ["domain", "errors", "composition", "app", "repositories", "coordinator", "scanning", "webhooks"],
  // The CLI's side (Node): the client speaks the wire, typed by the server's schemas (types only).
  client: ["domain", "errors", "signing", "http"],
  cli: ["domain", "errors", "client"],
};

/** The module a path under src/ belongs to: its folder, or the root file's own name. */
function moduleOf(path: string): string {
  const [first, second] = path.split("/");
  if (second === undefined) {
    const name = first!.replace(/\.tsx?$/, "").replace(/\.d$/, "");
    return name === "services" ? "composition" : name;
  }
  return first!;
}

/** Relative imports in a file, resolved against its folder (no extension), and whether types only. */
function importsOf(path: string, text: string): { target: string; typesOnly: boolean }[] {
  const folder = path.split("/").slice(0, -1);
  const found: { target: string; typesOnly: boolean }[] = [];
  const statements = /(?:^|\n)\s*(import\s+type\b|import|export)\b[^;]*?(?:from\s+)?["'](\.{1,2}\/[^"']+)["']/g;
  for (const match of text.matchAll(statements)) {
    const parts = [...folder];
    for (const step of match[2]!.split("/")) {
      if (step === "..") parts.pop();
      else if (step !== ".") parts.push(step);
    }
    found.push({ target: parts.join("/"), typesOnly: /^import\s+type/.test(match[1]!) });
  }
  return found;
}

function upwardArrows(files: Record<string, string>): string[] {
  const wrong: string[] = [];
  for (const [path, text] of Object.entries(files)) {
    const from = moduleOf(path);
    const allowed = ALLOWED[from];
    if (!allowed) {
      wrong.push(`${path}: module '${from}' has no row in ALLOWED`);
      continue;
    }
    for (const { target, typesOnly } of importsOf(path, text)) {
      const to = moduleOf(target.includes("/") ? target : `${target}.ts`);
      const ok = to === from || allowed.includes(to) || (typesOnly && allowed.includes(`${to} (types)`));
      if (!ok) wrong.push(`${path} imports ${target} (${from} → ${to})`);
    }
  }
  return wrong;
}

const sources = import.meta.glob<string>(["../../src/**/*.ts", "../../src/**/*.tsx"], {
  query: "?raw",
  import: "default",
  eager: true,
});
const files = Object.fromEntries(
  Object.entries(sources)
    .filter(([path]) => !path.endsWith(".d.ts"))
    .map(([path, text]) => [path.replace("../../src/", ""), text]),
);

describe("layers", () => {
  it("reads every source file", () => {
    expect(Object.keys(files).length).toBeGreaterThan(150);
    expect(files["services.ts"]).toContain("servicesFor");
  });

  it("has every import point down the allowed arrows", () => {
    expect(upwardArrows(files)).toEqual([]);
  });

  it("catches an arrow that points up, whatever its spelling", () => {
    expect(
      upwardArrows({
        "repositories/x.ts": 'import type { A } from "../services/a";\nimport { B } from "../domain/b";',
        "domain/y.ts": "import { C } from '../http/c';",
        "coordinator/z.ts": 'export { D } from "../services/d";',
        "events/w.ts": 'import "../ui/side-effect";',
        "http/v.ts": 'import { servicesFor } from "../services";\nimport type { Services } from "../services";',
        "delivery/u.ts": 'import {\n  type Changed,\n} from "../coordinator/contract";',
      }),
    ).toEqual([
      "repositories/x.ts imports services/a (repositories → services)",
      "domain/y.ts imports http/c (domain → http)",
      "coordinator/z.ts imports services/d (coordinator → services)",
      "events/w.ts imports ui/side-effect (events → ui)",
      "http/v.ts imports services (http → composition)",
      "delivery/u.ts imports coordinator/contract (delivery → coordinator)",
    ]);
  });
});
