import { z } from "zod";
import { MAX_TAG_KEY_LENGTH } from "../../domain/limits";
import {
  MAX_RULES_PER_STAGE,
  MAX_STAGING_SECONDS,
  METRIC_OPERATORS,
  POLICY_SCOPES,
  type PolicyRule,
  type PromotionPolicy,
} from "../../domain/promotion-policy";
import { MAX_ENTITY_KEY_LENGTH } from "../../domain/tracking-limits";

// Modelgate's promotion-policy messages (docs/policies.md). Unlike MLflow's messages, unknown
// fields are refused: a misspelt rule field must not silently weaken a policy.

/** A policy is stored under one Durable Object key: its tag values keep 2.x's cap, not 3.x's 100,000. */
const MAX_POLICY_TAG_VALUE = 5_000;
const key = (max: number) => z.string().min(1, "must not be empty").max(max, `must be at most ${max} characters`);

const TimeInStaging = z
  .object({
    type: z.literal("time_in_staging"),
    min_seconds: z.number().int({ error: "must be a whole number of seconds" }).min(0).max(MAX_STAGING_SECONDS),
  })
  .strict()
  .transform((r): PolicyRule => ({ type: "time_in_staging", minSeconds: r.min_seconds }));

const TagRule = z
  .object({
    type: z.literal("tag"),
    key: key(MAX_TAG_KEY_LENGTH),
    value: z.string().max(MAX_POLICY_TAG_VALUE).optional(),
  })
  .strict()
  .transform(
    (r): PolicyRule =>
      r.value === undefined ? { type: "tag", key: r.key } : { type: "tag", key: r.key, value: r.value },
  );

const MetricRule = z
  .object({
    type: z.literal("metric"),
    // `metrics.r2` as in MLflow's search filters, or just `r2`.
    key: z
      .string()
      .transform((k) => (k.startsWith("metrics.") ? k.slice("metrics.".length) : k))
      .pipe(key(MAX_ENTITY_KEY_LENGTH)),
    operator: z.enum(METRIC_OPERATORS),
    value: z.number().finite(),
  })
  .strict()
  .transform((r): PolicyRule => ({ type: "metric", key: r.key, operator: r.operator, value: r.value }));

const ScopeRule = z
  .object({ type: z.literal("scope"), scope: z.enum(POLICY_SCOPES) })
  .strict()
  .transform((r): PolicyRule => ({ type: "scope", scope: r.scope }));

// The version's pickle scan must be clean (docs/supply-chain.md); `status` names what it must be.
const ScanRule = z
  .object({ type: z.literal("scan"), status: z.literal("clean").default("clean") })
  .strict()
  .transform((): PolicyRule => ({ type: "scan", status: "clean" }));

const rule = z.discriminatedUnion("type", [TimeInStaging, TagRule, MetricRule, ScopeRule, ScanRule], {
  error: "a rule's type must be one of time_in_staging, tag, metric, scope, scan",
});
const rules = z.array(rule).max(MAX_RULES_PER_STAGE, `at most ${MAX_RULES_PER_STAGE} rules per stage`);

/** `{"Staging": [rules], "Production": [rules]}`; other stages cannot be guarded. */
export const Policy = z
  .object({
    Staging: rules
      .refine((list) => list.every((r) => r.type !== "time_in_staging"), "time_in_staging can only guard Production")
      .optional(),
    Production: rules.optional(),
  })
  .strict()
  .transform((p): PromotionPolicy => {
    const out: PromotionPolicy = {};
    if (p.Staging?.length) out.Staging = p.Staging;
    if (p.Production?.length) out.Production = p.Production;
    return out;
  });

export const GetPolicy = z.object({ name: z.string() });
export const SetPolicy = z.object({ name: z.string(), policy: Policy });
export const DeletePolicy = z.object({ name: z.string() });
