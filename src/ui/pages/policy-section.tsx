import { describeRule, POLICY_STAGES, type PolicyRecord, type PromotionPolicy } from "../../domain/promotion-policy";
import { StageBadge, Time } from "../components";

/** Whether a policy guards any stage (the model page shows the section only then). */
export function policyHasRules(record: PolicyRecord | null): record is PolicyRecord {
  return record !== null && POLICY_STAGES.some((s) => (record.policy[s]?.length ?? 0) > 0);
}

/**
 * The model's promotion policy in plain words, on the model page. Setting it is an API call
 * (PUT /api/2.0/modelgate/registered-models/policy, admin scope); docs/policies.md.
 */
export function PolicySection(props: {
  name: string;
  policy: PolicyRecord | null;
  /** The deployment's default (MODELGATE_DEFAULT_SCAN_POLICY), in force while the model has no policy. */
  fallback?: PromotionPolicy | null;
}) {
  const record = props.policy;
  const guarded = record ? POLICY_STAGES.filter((s) => (record.policy[s]?.length ?? 0) > 0) : [];
  const fallback = props.fallback ?? null;
  const defaulted = fallback ? POLICY_STAGES.filter((s) => (fallback[s]?.length ?? 0) > 0) : [];
  return (
    <section aria-labelledby="policy">
      <h2 id="policy">Promotion policy</h2>
      {(!record || guarded.length === 0) && fallback && defaulted.length > 0 ? (
        <>
          {defaulted.map((stage) => (
            <div class="policy-stage">
              <p>
                Before a version moves to <StageBadge stage={stage} />:
              </p>
              <ul aria-label={`Rules for ${stage}`}>
                {fallback[stage]!.map((rule) => (
                  <li>{describeRule(rule)}</li>
                ))}
              </ul>
            </div>
          ))}
          <p class="muted">
            The deployment's default, in force while the model has no policy of its own. An admin may record an override
            with a reason for a version whose scan is not clean.
          </p>
        </>
      ) : !record || guarded.length === 0 ? (
        <p class="muted">No promotion policy: any version can be moved to any stage by whoever may promote.</p>
      ) : (
        <>
          {guarded.map((stage) => (
            <div class="policy-stage">
              <p>
                Before a version moves to <StageBadge stage={stage} />:
              </p>
              <ul aria-label={`Rules for ${stage}`}>
                {record.policy[stage]!.map((rule) => (
                  <li>{describeRule(rule)}</li>
                ))}
              </ul>
            </div>
          ))}
          <p class="muted">
            Set by {record.updatedBy}, <Time ms={record.updatedTime} />. A rollback is held to the rules about the
            caller{POLICY_STAGES.some((st) => record.policy[st]?.some((r) => r.type === "scan")) ? " and the scan" : ""}{" "}
            only.
          </p>
        </>
      )}
    </section>
  );
}
