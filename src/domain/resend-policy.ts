/**
 * How the relay re-sends an event the consumer has not fanned out (the queue or its consumer may
 * have lost it): the first resend `firstResendMs` after the first send, each next one twice as
 * long after the one before, at most `maxResendMs` apart; after `maxSends` sends it stops and the
 * event is reported instead (`EventRepository.givenUp`, /health), never re-sent forever. The
 * outbox's queries compute the same delay in SQL (repositories/event-repository.ts).
 */
export interface ResendPolicy {
  firstResendMs: number;
  maxResendMs: number;
  maxSends: number;
}

/** Resends after 30 s, 1, 2, 4, ... minutes, capped at an hour: ten sends span about three hours, and the last is given an hour. */
export const RESEND_POLICY: ResendPolicy = { firstResendMs: 30_000, maxResendMs: 3_600_000, maxSends: 10 };
/** An event sent but not fanned out by then is sent again: the consumer may have lost it. */
export const RESEND_AFTER_MS = RESEND_POLICY.firstResendMs;

/** The wait after an event's `sends`-th send before the next one (or, after the last, before it counts as given up). */
export function resendDelayMs(sends: number, policy: ResendPolicy = RESEND_POLICY): number {
  return Math.min(policy.firstResendMs * 2 ** Math.max(0, sends - 1), policy.maxResendMs);
}
