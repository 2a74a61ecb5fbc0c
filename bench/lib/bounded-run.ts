// A benchmark's main, bounded: a watchdog stops everything after `watchdogMs`, Ctrl-C and SIGTERM
// clean up too, and the process exits with main's code (1 on an error), always after cleanUp.
export async function runBounded(
  label: string,
  main: () => Promise<number>,
  cleanUp: () => Promise<unknown>,
  watchdogMs: number,
) {
  const watchdog = setTimeout(() => {
    console.error(`${label}: still running after ${watchdogMs / 60_000} min; stopping everything`);
    void cleanUp().finally(() => process.exit(1));
  }, watchdogMs);
  watchdog.unref();
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => void cleanUp().finally(() => process.exit(130)));
  try {
    const code = await main();
    await cleanUp();
    process.exit(code);
  } catch (error) {
    console.error(`${label} failed: ${(error as Error).stack ?? error}`);
    await cleanUp();
    process.exit(1);
  }
}
