import { describe, expect, it } from "vitest";
import {
  callerOf,
  defaultRulesAdded,
  defaultScanPolicy,
  describeRule,
  effectivePolicy,
  evaluatePolicy,
  formatDuration,
  neededFacts,
  rulesFor,
  type MetricFact,
  type PolicyRule,
  type PromotionFacts,
  type PromotionPolicy,
} from "../../src/domain/promotion-policy";
import { SetPolicy } from "../../src/http/schemas/policies";

const NOW = 1_800_000_000_000;
const HOUR = 3_600_000;

function facts(overrides: Partial<PromotionFacts> = {}): PromotionFacts {
  return {
    model: "m",
    version: 3,
    target: "Production",
    kind: "transition",
    currentStage: "Staging",
    stagingSince: NOW - 2 * HOUR,
    now: NOW,
    tags: [{ key: "validation", value: "passed" }],
    runId: "run1",
    metrics: new Map<string, MetricFact>([["r2", { value: 0.93, isNan: false }]]),
    caller: { actor: "ci", scope: "promote" },
    ...overrides,
  };
}

const refusal = (reason: string) => `Promotion policy of 'm' refused version 3 → Production: ${reason}.`;
const production = (...rules: PolicyRule[]): PromotionPolicy => ({ Production: rules });

describe("evaluating one rule", () => {
  it.each<[string, PolicyRule, Partial<PromotionFacts>, string | null]>([
    // time in Staging
    ["time met", { type: "time_in_staging", minSeconds: 3600 }, {}, null],
    ["time met exactly", { type: "time_in_staging", minSeconds: 7200 }, {}, null],
    [
      "time too short",
      { type: "time_in_staging", minSeconds: 86_400 },
      {},
      refusal("version must have been in Staging for at least 1d (it has been in Staging for 2h)"),
    ],
    [
      "time: not in Staging",
      { type: "time_in_staging", minSeconds: 60 },
      { currentStage: "None", stagingSince: null },
      refusal("version must have been in Staging for at least 1m (it is in None, not Staging)"),
    ],
    ["time: zero minimum, just entered", { type: "time_in_staging", minSeconds: 0 }, { stagingSince: NOW }, null],
    // tags
    ["tag with value met", { type: "tag", key: "validation", value: "passed" }, {}, null],
    ["tag without value met", { type: "tag", key: "validation" }, {}, null],
    [
      "tag missing",
      { type: "tag", key: "validation", value: "passed" },
      { tags: [] },
      refusal("tag validation must be 'passed' (it is missing)"),
    ],
    [
      "tag has another value",
      { type: "tag", key: "validation", value: "passed" },
      { tags: [{ key: "validation", value: "failed" }] },
      refusal("tag validation must be 'passed' (it is 'failed')"),
    ],
    ["tag without value missing", { type: "tag", key: "owner" }, {}, refusal("tag owner must be set (it is missing)")],
    [
      "tag value is exact, case included",
      { type: "tag", key: "validation", value: "Passed" },
      {},
      refusal("tag validation must be 'Passed' (it is 'passed')"),
    ],
    // metrics
    ["metric >= met", { type: "metric", key: "r2", operator: ">=", value: 0.9 }, {}, null],
    ["metric > met", { type: "metric", key: "r2", operator: ">", value: 0.9 }, {}, null],
    ["metric < met", { type: "metric", key: "r2", operator: "<", value: 1 }, {}, null],
    ["metric <= met at equality", { type: "metric", key: "r2", operator: "<=", value: 0.93 }, {}, null],
    ["metric == met", { type: "metric", key: "r2", operator: "==", value: 0.93 }, {}, null],
    [
      "metric >= failed",
      { type: "metric", key: "r2", operator: ">=", value: 0.95 },
      {},
      refusal("metric r2 of its run must be >= 0.95 (it is 0.93)"),
    ],
    [
      "metric > failed at equality",
      { type: "metric", key: "r2", operator: ">", value: 0.93 },
      {},
      refusal("metric r2 of its run must be > 0.93 (it is 0.93)"),
    ],
    [
      "metric < failed",
      { type: "metric", key: "r2", operator: "<", value: 0.5 },
      {},
      refusal("metric r2 of its run must be < 0.5 (it is 0.93)"),
    ],
    [
      "metric <= failed",
      { type: "metric", key: "r2", operator: "<=", value: 0.9 },
      {},
      refusal("metric r2 of its run must be <= 0.9 (it is 0.93)"),
    ],
    [
      "metric == failed",
      { type: "metric", key: "r2", operator: "==", value: 1 },
      {},
      refusal("metric r2 of its run must be == 1 (it is 0.93)"),
    ],
    [
      "metric: version without a run",
      { type: "metric", key: "r2", operator: ">=", value: 0.9 },
      { runId: null, metrics: new Map() },
      refusal("metric r2 of its run must be >= 0.9 (version 3 has no run)"),
    ],
    [
      "metric never logged",
      { type: "metric", key: "rmse", operator: "<", value: 1 },
      {},
      refusal("metric rmse of its run must be < 1 (run run1 has no metric rmse)"),
    ],
    [
      "metric is NaN",
      { type: "metric", key: "r2", operator: "<", value: 1 },
      { metrics: new Map([["r2", { value: 0, isNan: true }]]) },
      refusal("metric r2 of its run must be < 1 (it is NaN)"),
    ],
    // caller scope
    ["scope promote met by promote", { type: "scope", scope: "promote" }, {}, null],
    [
      "scope promote met by admin",
      { type: "scope", scope: "promote" },
      { caller: { actor: "root", scope: "admin" } },
      null,
    ],
    [
      "scope admin refused to promote",
      { type: "scope", scope: "admin" },
      {},
      refusal("the caller needs the 'admin' scope ('ci' has 'promote')"),
    ],
    [
      "scope refused to write",
      { type: "scope", scope: "promote" },
      { caller: { actor: "t", scope: "write" } },
      refusal("the caller needs the 'promote' scope ('t' has 'write')"),
    ],
    [
      "scope with unknown caller",
      { type: "scope", scope: "promote" },
      { caller: null },
      refusal("the caller needs the 'promote' scope (the caller's scope is unknown)"),
    ],
  ])("%s", (_, rule, overrides, expected) => {
    const verdict = evaluatePolicy(production(rule), facts(overrides));
    if (expected === null) expect(verdict).toEqual({ ok: true });
    else
      expect(verdict).toEqual({
        ok: false,
        rule,
        code: rule.type === "scope" ? "PERMISSION_DENIED" : "INVALID_PARAMETER_VALUE",
        message: expected,
      });
  });
});

describe("evaluating a policy", () => {
  const strict: PromotionPolicy = {
    Staging: [{ type: "tag", key: "validation", value: "passed" }],
    Production: [
      { type: "scope", scope: "admin" },
      { type: "tag", key: "validation", value: "passed" },
      { type: "metric", key: "r2", operator: ">=", value: 0.99 },
    ],
  };

  it("answers with the first rule that fails, in the policy's order", () => {
    const verdict = evaluatePolicy(strict, facts({ tags: [] }));
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.rule).toEqual({ type: "scope", scope: "admin" });
    const admin = evaluatePolicy(strict, facts({ tags: [], caller: { actor: "root", scope: "admin" } }));
    if (admin.ok) throw new Error("expected a refusal");
    expect(admin.rule).toEqual({ type: "tag", key: "validation", value: "passed" });
  });

  it.each<[string, PromotionPolicy | null, Partial<PromotionFacts>]>([
    ["no policy", null, { tags: [], caller: null }],
    ["an empty policy", {}, { tags: [] }],
    ["no rules for the target stage", { Staging: [{ type: "tag", key: "x" }] }, { tags: [] }],
    ["leaving for Archived", strict, { target: "Archived", tags: [], caller: null }],
    ["leaving for None", strict, { target: "None", tags: [], caller: null }],
  ])("allows a transition with %s", (_, policy, overrides) => {
    expect(evaluatePolicy(policy, facts(overrides))).toEqual({ ok: true });
  });

  it("checks only the target stage's rules", () => {
    const verdict = evaluatePolicy(strict, facts({ target: "Staging", currentStage: "None", tags: [], caller: null }));
    expect(verdict).toMatchObject({
      ok: false,
      message: "Promotion policy of 'm' refused version 3 → Staging: tag validation must be 'passed' (it is missing).",
    });
  });

  it("holds a rollback to the caller rules only", () => {
    const rollback = facts({
      kind: "rollback",
      currentStage: "Archived",
      stagingSince: null,
      tags: [],
      metrics: new Map(),
    });
    expect(evaluatePolicy(strict, { ...rollback, caller: { actor: "root", scope: "admin" } })).toEqual({ ok: true });
    expect(evaluatePolicy(strict, rollback)).toEqual({
      ok: false,
      rule: { type: "scope", scope: "admin" },
      code: "PERMISSION_DENIED",
      message:
        "Promotion policy of 'm' refused the rollback to version 3 → Production: the caller needs the 'admin' scope ('ci' has 'promote').",
    });
    expect(rulesFor(strict, "Production", "rollback")).toEqual([{ type: "scope", scope: "admin" }]);
  });

  it("says which facts the rules need, so nothing else is read", () => {
    expect(neededFacts([])).toEqual({ stagingSince: false, metrics: [] });
    expect(
      neededFacts([
        { type: "time_in_staging", minSeconds: 1 },
        { type: "metric", key: "r2", operator: ">", value: 0 },
        { type: "metric", key: "r2", operator: "<", value: 1 },
        { type: "metric", key: "mae", operator: "<", value: 1 },
        { type: "tag", key: "x" },
      ]),
    ).toEqual({ stagingSince: true, metrics: ["r2", "mae"] });
  });
});

describe("who asks", () => {
  it("keeps only a principal's name and scope for the coordinator, and null when nobody said", () => {
    const principal = { actor: "ci", scope: "promote" as const, models: ["m"], tokenId: "t1" };
    expect(callerOf(principal)).toEqual({ actor: "ci", scope: "promote" });
    expect(callerOf(undefined)).toBeNull();
    expect(callerOf(null)).toBeNull();
  });
});

describe("rules in plain words", () => {
  it.each<[PolicyRule, string]>([
    [{ type: "time_in_staging", minSeconds: 86_400 }, "version must have been in Staging for at least 1d"],
    [{ type: "tag", key: "validation", value: "passed" }, "tag validation must be 'passed'"],
    [{ type: "tag", key: "owner" }, "tag owner must be set"],
    [{ type: "metric", key: "r2", operator: ">=", value: 0.9 }, "metric r2 of its run must be >= 0.9"],
    [{ type: "scope", scope: "promote" }, "the caller needs the 'promote' scope"],
  ])("%j reads %s", (rule, words) => {
    expect(describeRule(rule)).toBe(words);
  });

  it.each([
    [0, "0s"],
    [59, "59s"],
    [60, "1m"],
    [3_600, "1h"],
    [5_400, "1h 30m"],
    [90_061, "1d 1h 1m 1s"],
    [172_800, "2d"],
  ])("formats %i seconds as %s", (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe("the policy JSON", () => {
  it("parses every rule type into the domain's shape", () => {
    const parsed = SetPolicy.parse({
      name: "m",
      policy: {
        Staging: [{ type: "tag", key: "validation", value: "passed" }],
        Production: [
          { type: "time_in_staging", min_seconds: 86_400 },
          { type: "tag", key: "owner" },
          { type: "metric", key: "metrics.r2", operator: ">=", value: 0.9 },
          { type: "scope", scope: "admin" },
        ],
      },
    });
    expect(parsed.policy).toEqual({
      Staging: [{ type: "tag", key: "validation", value: "passed" }],
      Production: [
        { type: "time_in_staging", minSeconds: 86_400 },
        { type: "tag", key: "owner" },
        { type: "metric", key: "r2", operator: ">=", value: 0.9 },
        { type: "scope", scope: "admin" },
      ],
    });
  });

  it("drops stages without rules", () => {
    expect(SetPolicy.parse({ name: "m", policy: { Staging: [], Production: [] } }).policy).toEqual({});
  });

  it.each<[string, unknown, string, RegExp]>([
    ["a stage that cannot be guarded", { Archived: [] }, "policy", /Unrecognized key: "Archived"/],
    ["a stage spelt in lower case", { production: [] }, "policy", /Unrecognized key: "production"/],
    [
      "an unknown rule type",
      { Production: [{ type: "vibes" }] },
      "policy.Production.0.type",
      /type must be one of time_in_staging, tag, metric, scope/,
    ],
    [
      "an unknown operator",
      { Production: [{ type: "metric", key: "r2", operator: "=>", value: 1 }] },
      "policy.Production.0.operator",
      /expected one of/,
    ],
    [
      "a threshold given as text",
      { Production: [{ type: "metric", key: "r2", operator: ">", value: "0.9" }] },
      "policy.Production.0.value",
      /expected number/,
    ],
    [
      "a misspelt field",
      { Production: [{ type: "tag", key: "v", vaule: "x" }] },
      "policy.Production.0",
      /Unrecognized key: "vaule"/,
    ],
    ["an empty tag key", { Production: [{ type: "tag", key: "" }] }, "policy.Production.0.key", /must not be empty/],
    [
      "a metric key that is only the prefix",
      { Production: [{ type: "metric", key: "metrics.", operator: ">", value: 0 }] },
      "policy.Production.0.key",
      /must not be empty/,
    ],
    [
      "a metric key that is too long",
      { Production: [{ type: "metric", key: "k".repeat(251), operator: ">", value: 0 }] },
      "policy.Production.0.key",
      /at most 250 characters/,
    ],
    [
      "a negative time",
      { Production: [{ type: "time_in_staging", min_seconds: -1 }] },
      "policy.Production.0.min_seconds",
      /too small/i,
    ],
    [
      "a fractional time",
      { Production: [{ type: "time_in_staging", min_seconds: 1.5 }] },
      "policy.Production.0.min_seconds",
      /whole number of seconds/,
    ],
    [
      "time in Staging guarding Staging",
      { Staging: [{ type: "time_in_staging", min_seconds: 60 }] },
      "policy.Staging",
      /only guard Production/,
    ],
    [
      "a scope below promote",
      { Production: [{ type: "scope", scope: "write" }] },
      "policy.Production.0.scope",
      /expected one of "promote"\|"admin"/,
    ],
    [
      "too many rules",
      { Production: Array.from({ length: 21 }, () => ({ type: "tag", key: "k" })) },
      "policy.Production",
      /at most 20 rules/,
    ],
    ["a policy that is not an object", [], "policy", /expected object/],
  ])("refuses %s, naming the bad part", (_, policy, path, message) => {
    const result = SetPolicy.safeParse({ name: "m", policy });
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error.issues[0]!.path.join(".")).toBe(path);
    expect(result.error.issues[0]!.message).toMatch(message);
  });
});

describe("the deployment's default merged with a model's own policy", () => {
  const SCAN: PolicyRule = { type: "scan", status: "clean" };
  const METRIC: PolicyRule = { type: "metric", key: "r2", operator: ">=", value: 0.9 };
  const SCOPE: PolicyRule = { type: "scope", scope: "admin" };
  const cases: [string, PromotionPolicy | null, PromotionPolicy | null, PromotionPolicy | null][] = [
    ["no default, no policy: nothing", null, null, null],
    ["no default: the model's own", { Production: [METRIC] }, null, { Production: [METRIC] }],
    ["no policy: the default", null, { Production: [SCAN] }, { Production: [SCAN] }],
    [
      "a metric rule keeps the default scan rule after it",
      { Production: [METRIC] },
      { Production: [SCAN] },
      { Production: [METRIC, SCAN] },
    ],
    [
      "a scope rule on Staging keeps the default on Production",
      { Staging: [SCOPE] },
      { Production: [SCAN] },
      { Staging: [SCOPE], Production: [SCAN] },
    ],
    [
      "the model's own scan rule holds (not doubled)",
      { Production: [SCAN, SCOPE] },
      { Production: [SCAN] },
      { Production: [SCAN, SCOPE] },
    ],
    [
      "an own scan rule on one stage leaves the default on the other",
      { Production: [SCAN] },
      { Staging: [SCAN], Production: [SCAN] },
      { Staging: [SCAN], Production: [SCAN] },
    ],
    [
      "an empty stage list does not drop the default",
      { Production: [] },
      { Production: [SCAN] },
      { Production: [SCAN] },
    ],
  ];
  for (const [what, own, deploymentDefault, expected] of cases) {
    it(what, () => expect(effectivePolicy(own, deploymentDefault)).toEqual(expected));
  }

  it("says which rules the default added per stage", () => {
    const d = defaultScanPolicy("Staging,Production");
    expect(defaultRulesAdded({ Production: [METRIC] }, d, "Production")).toEqual([SCAN]);
    expect(defaultRulesAdded({ Production: [SCAN] }, d, "Production")).toEqual([]);
    expect(defaultRulesAdded({ Production: [SCAN] }, d, "Staging")).toEqual([SCAN]);
    expect(defaultRulesAdded(null, null, "Production")).toEqual([]);
  });

  it("refuses an unsafe version whose model policy has only a metric rule, once merged", () => {
    const policy = effectivePolicy({ Production: [METRIC] }, defaultScanPolicy("Production"));
    const verdict = evaluatePolicy(
      policy,
      facts({
        scan: { status: "unsafe", finding: "model.pkl imports posix.system", unscannedBytes: 0, override: null },
      }),
    );
    expect(verdict).toMatchObject({ ok: false, rule: SCAN });
  });
});
