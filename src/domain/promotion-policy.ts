import type { ErrorCode } from "../errors";
import type { Tag } from "./model";
import { allows, type Scope } from "./scopes";
import type { Stage } from "./stages";

// A model's promotion policy: per target stage, rules a version (and the caller moving it) must
// meet before a transition to that stage is written. Pure: the coordinator gathers the facts and
// asks `evaluatePolicy`; the HTTP edge parses the JSON (src/http/schemas/policies.ts). See
// docs/policies.md.

/** The stages a policy can guard. Leaving a stage (to None or Archived) is never blocked. */
export const POLICY_STAGES = ["Staging", "Production"] as const satisfies readonly Stage[];
export type PolicyStage = (typeof POLICY_STAGES)[number];

export const METRIC_OPERATORS = [">", ">=", "<", "<=", "=="] as const;
export type MetricOperator = (typeof METRIC_OPERATORS)[number];

/** Scopes a `scope` rule may demand: every transition already needs `promote`. */
export const POLICY_SCOPES = ["promote", "admin"] as const satisfies readonly Scope[];

export const MAX_RULES_PER_STAGE = 20;
/** The longest minimum time in Staging a rule may ask for: a year. */
export const MAX_STAGING_SECONDS = 366 * 24 * 3600;

export type PolicyRule =
  /** The version is in Staging now and entered it at least `minSeconds` ago (Production only). */
  | { type: "time_in_staging"; minSeconds: number }
  /** The version carries tag `key`, with exactly `value` when one is given. */
  | { type: "tag"; key: string; value?: string }
  /** The latest value of metric `key` in the version's run compares to `value` with `operator`. */
  | { type: "metric"; key: string; operator: MetricOperator; value: number }
  /** The caller holds at least `scope` on the model. */
  | { type: "scope"; scope: Scope }
  /**
   * The version's pickle scan is `clean` (docs/supply-chain.md), or an admin recorded an override
   * for it. `pending` fails: the coordinator first scans a small version's files itself.
   */
  | { type: "scan"; status: "clean" };

export type PromotionPolicy = Partial<Record<PolicyStage, PolicyRule[]>>;

/** A stored policy and who set it. */
export interface PolicyRecord {
  policy: PromotionPolicy;
  updatedBy: string;
  updatedTime: number;
}

/** Who asks for the transition, as the route's guard authenticated them. */
export interface Caller {
  actor: string;
  scope: Scope;
}

/** Just the name and scope of who asks (a principal carries more), or null when nobody said. */
export function callerOf(principal: Caller | null | undefined): Caller | null {
  return principal ? { actor: principal.actor, scope: principal.scope } : null;
}

/**
 * What a transition is. A rollback restores a version that already served in Production, so only
 * the rules about the caller apply to it: its time in Staging, tags and metrics were checked when
 * it was first promoted, and a Staging clock must never block the way back (docs/policies.md).
 */
export type TransitionKind = "transition" | "rollback";

/** The version's scan, as a `scan` rule sees it. */
export interface ScanFact {
  status: "pending" | "clean" | "unknown" | "unsafe";
  /** The file and global (or reason) behind a status that is not clean. */
  finding: string | null;
  /** While pending: bytes not scanned yet. */
  unscannedBytes: number;
  /** An admin's override in force for the version. */
  override: { actor: string; reason: string } | null;
}

/** The latest value of one metric of the version's run. */
export interface MetricFact {
  value: number;
  isNan: boolean;
}

/** What the rules look at, gathered by the coordinator. Only the facts the rules need are read. */
export interface PromotionFacts {
  model: string;
  version: number;
  target: Stage;
  kind: TransitionKind;
  currentStage: Stage;
  /** When the version last entered Staging (ms), if it is in Staging now. */
  stagingSince: number | null;
  now: number;
  tags: readonly Tag[];
  runId: string | null;
  /** Latest values by metric key; a key absent here is a metric the run never logged. */
  metrics: ReadonlyMap<string, MetricFact>;
  /** null: the transition comes from a path that did not say who asks (it fails scope rules). */
  caller: Caller | null;
  /** Read only when a `scan` rule guards the target (null otherwise: such a rule then fails). */
  scan?: ScanFact | null;
}

export type Verdict = { ok: true } | { ok: false; rule: PolicyRule; code: ErrorCode; message: string };

/** The rules guarding a transition to `target` of the given kind. */
export function rulesFor(
  policy: PromotionPolicy | null | undefined,
  target: Stage,
  kind: TransitionKind = "transition",
): PolicyRule[] {
  const rules = policy?.[target as PolicyStage] ?? [];
  // The scan rule holds on the way back too: a version found unsafe since it last served must not
  // return to Production by a rollback (an admin's override lets it).
  return kind === "rollback" ? rules.filter((r) => r.type === "scope" || r.type === "scan") : rules;
}

/** What the facts gathering needs to read: whether a Staging entry time, and which metrics. */
export function neededFacts(rules: readonly PolicyRule[]): { stagingSince: boolean; metrics: string[] } {
  const metrics = new Set<string>();
  for (const r of rules) if (r.type === "metric") metrics.add(r.key);
  return { stagingSince: rules.some((r) => r.type === "time_in_staging"), metrics: [...metrics] };
}

/** Whether a rule reads the version's scan (which may scan a small version there and then). */
export function needsScan(rules: readonly PolicyRule[]): boolean {
  return rules.some((r) => r.type === "scan");
}

/** Where a deployment's default scan rule applies (MODELGATE_DEFAULT_SCAN_POLICY). */
export type DefaultScanPolicy = "off" | "Production" | "Staging,Production";

/**
 * MODELGATE_DEFAULT_SCAN_POLICY as the rules every model is held to on top of its own
 * (`effectivePolicy`).
 * Unset or empty: "off" (a deployment whose configuration predates the setting keeps its
 * behaviour); "Production" or "Staging,Production": the rule guards those stages; anything else
 * is a typo, read as the strictest ("Staging,Production") rather than as no rule at all.
 */
export function defaultScanPolicy(value: string | undefined): PromotionPolicy | null {
  const v = (value ?? "").trim().toLowerCase().replaceAll(" ", "");
  if (v === "" || v === "off" || v === "none") return null;
  const rule: PolicyRule = { type: "scan", status: "clean" };
  if (v === "production") return { Production: [rule] };
  return { Staging: [rule], Production: [rule] };
}

/**
 * The policy a model is held to: its own rules, plus, for each stage the deployment's default
 * guards, the default's rules of a type the model's rules for that stage do not have. The default
 * is a floor, not a fallback: a model policy with only a metric or scope rule for Production keeps
 * the default scan rule there; a model policy with its own scan rule for a stage holds (the rules
 * are the same today, so nothing is lost). There is no per-model opt-out: a version whose scan is
 * not clean passes through an admin's override, recorded per version with a reason. Own rules come
 * first, in their order; the default's follow. Null when neither guards anything.
 */
export function effectivePolicy(
  own: PromotionPolicy | null | undefined,
  deploymentDefault: PromotionPolicy | null | undefined,
): PromotionPolicy | null {
  if (!deploymentDefault) return own ?? null;
  const merged: PromotionPolicy = {};
  for (const stage of POLICY_STAGES) {
    const rules = own?.[stage] ?? [];
    const added = defaultRulesAdded(own, deploymentDefault, stage);
    if (rules.length + added.length > 0) merged[stage] = [...rules, ...added];
  }
  return POLICY_STAGES.some((s) => merged[s]) ? merged : null;
}

/** The rules `effectivePolicy` adds to the model's own for `stage` (what the model page marks as the default). */
export function defaultRulesAdded(
  own: PromotionPolicy | null | undefined,
  deploymentDefault: PromotionPolicy | null | undefined,
  stage: PolicyStage,
): PolicyRule[] {
  const rules = own?.[stage] ?? [];
  return (deploymentDefault?.[stage] ?? []).filter((d) => !rules.some((r) => r.type === d.type));
}

/** Checks the rules in order and answers with the first that fails, or ok. */
export function evaluatePolicy(policy: PromotionPolicy | null | undefined, facts: PromotionFacts): Verdict {
  for (const rule of rulesFor(policy, facts.target, facts.kind)) {
    const failure = check(rule, facts);
    if (failure !== null) {
      const code: ErrorCode = rule.type === "scope" ? "PERMISSION_DENIED" : "INVALID_PARAMETER_VALUE";
      const what = facts.kind === "rollback" ? "the rollback to version" : "version";
      return {
        ok: false,
        rule,
        code,
        message: `Promotion policy of '${facts.model}' refused ${what} ${facts.version} → ${facts.target}: ${describeRule(rule)} (${failure}).`,
      };
    }
  }
  return { ok: true };
}

/** Why `rule` fails for these facts, or null when it holds. */
function check(rule: PolicyRule, facts: PromotionFacts): string | null {
  switch (rule.type) {
    case "time_in_staging": {
      if (facts.currentStage !== "Staging") return `it is in ${facts.currentStage}, not Staging`;
      const since = facts.stagingSince ?? facts.now;
      const spent = Math.max(0, facts.now - since);
      return spent >= rule.minSeconds * 1000
        ? null
        : `it has been in Staging for ${formatDuration(Math.floor(spent / 1000))}`;
    }
    case "tag": {
      const tag = facts.tags.find((t) => t.key === rule.key);
      if (!tag) return "it is missing";
      return rule.value === undefined || tag.value === rule.value ? null : `it is '${tag.value}'`;
    }
    case "metric": {
      if (facts.runId === null) return `version ${facts.version} has no run`;
      const metric = facts.metrics.get(rule.key);
      if (!metric) return `run ${facts.runId} has no metric ${rule.key}`;
      if (metric.isNan) return "it is NaN";
      return compare(metric.value, rule.operator, rule.value) ? null : `it is ${metric.value}`;
    }
    case "scope": {
      if (facts.caller === null) return "the caller's scope is unknown";
      return allows(facts.caller.scope, rule.scope) ? null : `'${facts.caller.actor}' has '${facts.caller.scope}'`;
    }
    case "scan": {
      const scan = facts.scan;
      if (!scan) return "its scan could not be read";
      if (scan.status === "clean" || scan.override) return null;
      if (scan.status === "pending")
        return `scan pending: ${formatBytes(scan.unscannedBytes)} not scanned yet, retry when the scan completes`;
      return `scan ${scan.status}: ${scan.finding ?? "see its scan"}; an admin may record an override with a reason`;
    }
  }
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

function compare(actual: number, operator: MetricOperator, expected: number): boolean {
  switch (operator) {
    case ">":
      return actual > expected;
    case ">=":
      return actual >= expected;
    case "<":
      return actual < expected;
    case "<=":
      return actual <= expected;
    case "==":
      return actual === expected;
  }
}

/** A rule in plain words, as refusals and the model page show it. */
export function describeRule(rule: PolicyRule): string {
  switch (rule.type) {
    case "time_in_staging":
      return `version must have been in Staging for at least ${formatDuration(rule.minSeconds)}`;
    case "tag":
      return rule.value === undefined ? `tag ${rule.key} must be set` : `tag ${rule.key} must be '${rule.value}'`;
    case "metric":
      return `metric ${rule.key} of its run must be ${rule.operator} ${rule.value}`;
    case "scope":
      return `the caller needs the '${rule.scope}' scope`;
    case "scan":
      return "its pickle scan must be clean";
  }
}

const UNITS: [string, number][] = [
  ["d", 86_400],
  ["h", 3_600],
  ["m", 60],
  ["s", 1],
];

/** 90061 → "1d 1h 1m 1s"; 0 → "0s". */
export function formatDuration(seconds: number): string {
  const parts: string[] = [];
  let left = Math.max(0, Math.floor(seconds));
  for (const [unit, size] of UNITS) {
    if (left >= size) {
      parts.push(`${Math.floor(left / size)}${unit}`);
      left %= size;
    }
  }
  return parts.length === 0 ? "0s" : parts.join(" ");
}
