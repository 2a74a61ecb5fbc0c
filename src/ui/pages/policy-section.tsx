import {
  defaultRulesAdded,
  describeRule,
  POLICY_STAGES,
  type PolicyRecord,
  type PromotionPolicy,
} from "../../domain/promotion-policy";
import { StageBadge, Time } from "../components";

/** Whether a policy guards any stage (the model page shows the section only then). */
export function policyHasRules(record: PolicyRecord | null): record is PolicyRecord {
  return record !== null && POLICY_STAGES.some((s) => (record.policy[s]?.length ?? 0) > 0);
}

/**
 * The rules a model is held to in plain words, on the model page: its own policy and the
 * deployment's default rules merged as the coordinator merges them (`effectivePolicy`), each
 * default rule marked as such. Setting the policy is an API call (PUT
 * /api/2.0/modelgate/registered-models/policy, admin scope); docs/policies.md.
 */
export function PolicySection(props: {
  name: string;
  policy: PolicyRecord | null;
  /** The deployment's default (MODELGATE_DEFAULT_SCAN_POLICY), in force alongside the model's own rules. */
  fallback?: PromotionPolicy | null;
}) {
  const record = policyHasRules(props.policy) ? props.policy : null;
  const own = record?.policy ?? null;
  const stages = POLICY_STAGES.map((stage) => ({
    stage,
    own: own?.[stage] ?? [],
    added: defaultRulesAdded(own, props.fallback, stage),
  })).filter((s) => s.own.length + s.added.length > 0);
  const anyDefault = stages.some((s) => s.added.length > 0);
  const anyScan = stages.some((s) => [...s.own, ...s.added].some((r) => r.type === "scan"));
  return (
    <section aria-labelledby="policy">
      <h2 id="policy">Promotion policy</h2>
      {stages.length === 0 ? (
        <p class="muted">No promotion policy: any version can be moved to any stage by whoever may promote.</p>
      ) : (
        <>
          {stages.map((s) => (
            <div class="policy-stage">
              <p>
                Before a version moves to <StageBadge stage={s.stage} />:
              </p>
              <ul aria-label={`Rules for ${s.stage}`}>
                {s.own.map((rule) => (
                  <li>{describeRule(rule)}</li>
                ))}
                {s.added.map((rule) => (
                  <li>
                    {describeRule(rule)} <span class="muted">(the deployment's default)</span>
                  </li>
                ))}
              </ul>
            </div>
          ))}
          {record && (
            <p class="muted">
              Set by {record.updatedBy}, <Time ms={record.updatedTime} />. A rollback is held to the rules about the
              caller{anyScan ? " and the scan" : ""} only.
            </p>
          )}
          {anyDefault && (
            <p class="muted">
              The deployment's default applies to every model, on top of its own policy (a scan rule of the model's own
              for a stage takes its place). An admin may record an override with a reason for a version whose scan is
              final and not clean.
            </p>
          )}
        </>
      )}
    </section>
  );
}
