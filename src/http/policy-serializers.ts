import {
  describeRule,
  POLICY_STAGES,
  type PolicyRecord,
  type PolicyRule,
  type PromotionPolicy,
} from "../domain/promotion-policy";

// Promotion policies on the wire: the same snake_case shape src/http/schemas/policies.ts accepts,
// so a policy read with GET can be sent back with PUT unchanged.

function ruleJson(rule: PolicyRule): Record<string, unknown> {
  switch (rule.type) {
    case "time_in_staging":
      return { type: rule.type, min_seconds: rule.minSeconds };
    case "tag":
      return rule.value === undefined
        ? { type: rule.type, key: rule.key }
        : { type: rule.type, key: rule.key, value: rule.value };
    case "metric":
      return { type: rule.type, key: rule.key, operator: rule.operator, value: rule.value };
    case "scope":
      return { type: rule.type, scope: rule.scope };
    case "scan":
      return { type: rule.type, status: rule.status };
  }
}

export function policyJson(policy: PromotionPolicy): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const stage of POLICY_STAGES) if (policy[stage]?.length) out[stage] = policy[stage]!.map(ruleJson);
  return out;
}

/** `{policy, updated_by, updated_time, description}`; a model without a policy answers `{policy: {}}`. */
export function policyRecordJson(record: PolicyRecord | null): Record<string, unknown> {
  if (!record) return { policy: {} };
  const description: Record<string, string[]> = {};
  for (const stage of POLICY_STAGES)
    if (record.policy[stage]?.length) description[stage] = record.policy[stage]!.map(describeRule);
  return {
    policy: policyJson(record.policy),
    updated_by: record.updatedBy,
    updated_time: record.updatedTime,
    description,
  };
}
