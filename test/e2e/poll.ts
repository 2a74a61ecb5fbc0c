// Waiting for something that must happen, bounded by a count of looks rather than a clock: the test
// proceeds the moment the condition holds, and fails (naming what it waited for) only after
// `attempts` looks that all came back empty, however slow or fast the machine.

/**
 * Calls `probe` until it returns a value other than null, undefined or false, at most `attempts`
 * times, `intervalMs` apart; resolves with that value.
 */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  { attempts, intervalMs = 200 }: { attempts: number; intervalMs?: number },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const value = await probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (attempt >= attempts) throw new Error(`${what}: not seen in ${attempts} looks ${intervalMs} ms apart`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
