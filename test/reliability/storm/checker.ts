// The storm's checker: compares the ledger (every write the registry acknowledged, and every one in
// flight at a crash) with a snapshot of the final state, in either view (storage or HTTP), and asks
// the live registry for one more version of each model to see that no number is handed out twice.
import { type Snapshot, type SnapshotModel, UID_TAG } from "../invariants";
import { type FileRecord, type ModelEntry, OP_TAG, type StormLedger } from "./ledger";

/** Every version number each model (by uid) was ever handed, for the invariants' never-reused rule. */
export function createdVersions(ledger: StormLedger): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const e of [...ledger.slots, ...ledger.retired]) out[e.uid] = [...e.created];
  return out;
}

/**
 * Creates one more version of every live model (an outside source, no files): its number must be
 * above every number handed out before, the HTTP-visible half of "never reused".
 */
export async function probeNextVersions(base: string, ledger: StormLedger): Promise<string[]> {
  const violations: string[] = [];
  for (const entry of ledger.slots) {
    const op = `${ledger.runTag}-probe-${entry.uid}`;
    const res = await fetch(`${base}/api/2.0/mlflow/model-versions/create`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: entry.name, source: "s3://reliability/probe", tags: [{ key: OP_TAG, value: op }] }),
    });
    const body = (await res.json()) as any;
    if (res.status !== 200) {
      violations.push(`probe create on ${entry.name}: ${res.status} ${JSON.stringify(body)}`);
      continue;
    }
    const number = Number(body.model_version.version);
    const highest = Math.max(0, ...entry.created);
    if (number <= highest)
      violations.push(
        `model ${entry.name}: a new version got number ${number}, not above ${highest} handed out before`,
      );
    entry.created.push(number);
    entry.versions.set(number, { op, files: [], deleted: null });
  }
  return violations;
}

/**
 * Checks every acknowledged write of the storm against a snapshot of the final state (either view),
 * and that nothing appeared that no client asked for.
 */
export function verifyLedger(snapshot: Snapshot, ledger: StormLedger): { violations: string[]; checked: number } {
  const violations: string[] = [];
  const bad = (text: string) => violations.push(`[${snapshot.view}] ${text}`);
  const byUid = new Map<string, SnapshotModel>();
  for (const m of snapshot.models) {
    const uid = m.tags?.[UID_TAG];
    if (!uid?.startsWith(`${ledger.runTag}-`)) continue;
    const twin = byUid.get(uid);
    if (twin) bad(`two models carry ${UID_TAG}=${uid}: ${twin.name} and ${m.name}`);
    byUid.set(uid, m);
  }
  let checked = 0;
  for (const entry of ledger.retired) {
    checked++;
    const still = byUid.get(entry.uid);
    if (entry.deleted === "acked" && still)
      bad(`model ${entry.uid} was deleted (acknowledged) but is still there as ${still.name}`);
  }
  for (const entry of ledger.slots) {
    checked++;
    const model = byUid.get(entry.uid);
    if (!model) {
      bad(`model ${entry.uid} (${entry.name}) is gone; it was created and never deleted`);
      continue;
    }
    if (model.name !== entry.name)
      bad(`model ${entry.uid} is named ${model.name}; the last acknowledged name is ${entry.name}`);
    const versions = new Map(model.versions.map((v) => [v.version, v]));
    // Acknowledged creates are there, whole, unless a delete was issued for them.
    for (const [number, known] of entry.versions) {
      checked++;
      const v = versions.get(number);
      if (!v) {
        if (known.deleted === null)
          bad(`${entry.name} v${number} (${known.op}) was acknowledged and never deleted, but is missing`);
        continue;
      }
      if (known.deleted === "acked") bad(`${entry.name} v${number} was deleted (acknowledged) but is still there`);
      if (v.tags[OP_TAG] !== known.op)
        bad(`${entry.name} v${number} is ${v.tags[OP_TAG]}, not the acknowledged ${known.op}`);
      if (v.status !== "READY") bad(`${entry.name} v${number} is ${v.status}`);
      const want = manifestText(known.files);
      const have = manifestText(v.files);
      if (want !== have)
        bad(
          `${entry.name} v${number}: manifest ${have || "(empty)"} differs from the uploaded files ${want || "(none)"}`,
        );
    }
    // Nothing else appeared: every version comes from a create that was acknowledged or in flight at a crash.
    for (const v of model.versions) {
      const op = v.tags[OP_TAG];
      if (entry.versions.get(v.version)?.op === op) continue;
      if (!op) bad(`${entry.name} v${v.version} carries no ${OP_TAG} tag: no client created it`);
      else if (entry.refusedCreates.has(op))
        bad(`${entry.name} v${v.version} comes from a create that was refused (${op})`);
      else if (!entry.unknownCreates.has(op))
        bad(
          `${entry.name} v${v.version} comes from ${op}, never acknowledged for this number nor in flight at a crash`,
        );
      else {
        const files = manifestText(entry.unknownCreates.get(op) ?? []);
        const have = manifestText(v.files);
        if (files !== have)
          bad(
            `${entry.name} v${v.version} (in flight at a crash) has manifest ${have || "(empty)"}, uploaded ${files}`,
          );
        if (entry.created.includes(v.version))
          bad(`${entry.name} v${v.version} (in flight at a crash) shares its number with an acknowledged create`);
      }
    }
    // Acknowledged transitions are in the history; every history row comes from an issued transition.
    const rows = new Map<string, SnapshotModel["transitions"][number]>();
    for (const t of model.transitions) if (t.comment) rows.set(t.comment, t);
    for (const t of entry.transitionsAcked) {
      checked++;
      const row = rows.get(t.op);
      if (!row)
        bad(`${entry.name}: acknowledged transition ${t.op} (v${t.version} → ${t.stage}) is missing from the history`);
      else if (row.version !== t.version || row.to !== t.stage)
        bad(
          `${entry.name}: history row ${t.op} says v${row.version} → ${row.to}, acknowledged v${t.version} → ${t.stage}`,
        );
    }
    for (const t of model.transitions) {
      if (t.comment?.startsWith(`${ledger.runTag}-t-`) && !entry.transitionsIssued.has(t.comment))
        bad(`${entry.name}: history row ${t.comment} was never issued for this model`);
    }
    // Aliases: each belongs to one client, so the last acknowledged (or in-flight) op decides.
    const aliases = new Map(model.aliases.map((a) => [a.alias, a.version]));
    for (const [alias, ops] of entry.aliasOps) {
      checked++;
      const allowed = new Set<number | null>();
      for (let i = ops.length - 1; i >= 0; i--) {
        const op = ops[i]!;
        const effect = op.kind === "delete" ? null : op.version;
        // A set whose version was deleted afterwards went with it (acknowledged delete), or may have.
        const deleted = effect === null ? null : entry.versions.get(effect)?.deleted;
        if (deleted !== "acked") allowed.add(effect);
        if (deleted) allowed.add(null);
        if (op.outcome === "acked") break;
        if (i === 0) allowed.add(null);
      }
      if (ops.length === 0) allowed.add(null);
      const have = aliases.get(alias) ?? null;
      if (!allowed.has(have))
        bad(
          `${entry.name}: alias ${alias} is ${have ?? "absent"}; the acknowledged ops allow only ${[...allowed].map((a) => a ?? "absent").join(" or ")}`,
        );
    }
    for (const alias of aliases.keys())
      if (!entry.aliasOps.has(alias)) bad(`${entry.name}: alias ${alias} was never set by any client`);
  }
  return { violations, checked };
}

/**
 * Whose bytes a file served under `name` were, when they are not the current model's: a version of
 * an earlier model (deleted, or renamed away) that held the same name. Null when unexplained.
 */
export function earlierHolder(
  ledger: StormLedger,
  name: string,
  version: number,
  sha256: string,
  current: string,
): ModelEntry | null {
  const all = [...ledger.retired, ...ledger.slots];
  return (
    all.find(
      (e) =>
        e.uid !== current && e.names.includes(name) && e.versions.get(version)?.files.some((f) => f.sha256 === sha256),
    ) ?? null
  );
}

/** A manifest as one comparable text: `path:size:sha256` per file, sorted. */
function manifestText(files: FileRecord[]) {
  return files
    .map((f) => `${f.path}:${f.size}:${f.sha256}`)
    .sort()
    .join(" ");
}
