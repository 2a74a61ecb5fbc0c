const DAY_MS = 24 * 3600 * 1000;

/** How long rows that only grow are kept (wrangler.toml [vars], documented there and in docs/storage.md). */
export interface MaintenanceConfig {
  /** Events fanned out into webhook deliveries, by the time of their change (default 30 days). */
  eventRetentionMs: number;
  /** DELIVERED and FAILED webhook deliveries with their attempts, by their last update (default 30 days). */
  deliveryRetentionMs: number;
  /** DEAD (dead-lettered) deliveries not replayed, by the time they died (default 90 days). */
  deadDeliveryRetentionMs: number;
  /** Audit rows; null keeps them for ever (the default). */
  auditRetentionMs: number | null;
  /** Vars whose value was not a positive number of days, named so the scheduled run can log them. */
  invalid: string[];
}

export interface MaintenanceVars {
  MODELGATE_EVENT_RETENTION_DAYS?: string;
  MODELGATE_DELIVERY_RETENTION_DAYS?: string;
  MODELGATE_DEAD_DELIVERY_RETENTION_DAYS?: string;
  MODELGATE_AUDIT_RETENTION_DAYS?: string;
}

export function readMaintenanceConfig(vars: MaintenanceVars): MaintenanceConfig {
  const invalid: string[] = [];
  // Unset or empty: the default. Anything else must be a positive number of days (fractions allowed);
  // a typo falls back to the default rather than deleting by a misread value.
  const days = (name: keyof MaintenanceVars, fallback: number | null): number | null => {
    const value = vars[name]?.trim();
    if (value === undefined || value === "") return fallback === null ? null : fallback * DAY_MS;
    const n = Number(value);
    if (Number.isFinite(n) && n > 0) return n * DAY_MS;
    invalid.push(`${name}=${JSON.stringify(value)}`);
    return fallback === null ? null : fallback * DAY_MS;
  };
  return {
    eventRetentionMs: days("MODELGATE_EVENT_RETENTION_DAYS", 30)!,
    deliveryRetentionMs: days("MODELGATE_DELIVERY_RETENTION_DAYS", 30)!,
    deadDeliveryRetentionMs: days("MODELGATE_DEAD_DELIVERY_RETENTION_DAYS", 90)!,
    auditRetentionMs: days("MODELGATE_AUDIT_RETENTION_DAYS", null),
    invalid,
  };
}
