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
  | { type: "scope"; scope: Scope };

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
}

export type Verdict = { ok: true } | { ok: false; rule: PolicyRule; code: ErrorCode; message: string };

/** The rules guarding a transition to `target` of the given kind. */
export function rulesFor(
  policy: PromotionPolicy | null | undefined,
  target: Stage,
  kind: TransitionKind = "transition",
): PolicyRule[] {
  const rules = policy?.[target as PolicyStage] ?? [];
  return kind === "rollback" ? rules.filter((r) => r.type === "scope") : rules;
}

/** What the facts gathering needs to read: whether a Staging entry time, and which metrics. */
export function neededFacts(rules: readonly PolicyRule[]): { stagingSince: boolean; metrics: string[] } {
  const metrics = new Set<string>();
  for (const r of rules) if (r.type === "metric") metrics.add(r.key);
  return { stagingSince: rules.some((r) => r.type === "time_in_staging"), metrics: [...metrics] };
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
  }
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
