// How much CPU the rest of the machine used while wrk ran: the whole machine's busy time from
// /proc/stat, minus this benchmark's own processes (itself, wrk once reaped, and every process in
// the process groups of the servers it started). On a shared 2-core machine that number says
// whether a row measured the registry or a neighbour.
import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on Linux

function machineBusyTicks() {
  const [, ...fields] = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal] = fields.map(Number);
  return user + nice + system + irq + softirq + (steal ?? 0);
}

/** [pgrp, utime + stime, cutime + cstime] of one process, or null once it is gone. */
function processTicks(pid: number | string): [number, number, number] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return [Number(f[2]), Number(f[11]) + Number(f[12]), Number(f[13]) + Number(f[14])];
  } catch {
    return null;
  }
}

function ownTicks(groups: Set<number>) {
  const self = processTicks(process.pid);
  let total = self ? self[1] + self[2] : 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const p = processTicks(entry);
    if (p && groups.has(p[0])) total += p[1];
  }
  return total;
}

/** Starts a meter; `stop()` answers the CPU, in cores, used over the interval by us and by everything else. */
export function startCpuMeter(groups: Set<number>) {
  const t0 = process.hrtime.bigint();
  const busy0 = machineBusyTicks();
  const own0 = ownTicks(groups);
  return {
    stop() {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const busy = (machineBusyTicks() - busy0) / TICKS_PER_SECOND;
      const own = (ownTicks(groups) - own0) / TICKS_PER_SECOND;
      const round = (n: number) => Math.round(n * 100) / 100;
      return {
        seconds: round(seconds),
        ownCores: round(own / seconds),
        otherCores: round(Math.max(0, busy - own) / seconds),
      };
    },
  };
}

/**
 * Waits until our processes stay under `cores` for a whole `windowMs` (a server done with its
 * background work); answers the seconds waited, or null when they were still busy at `timeoutMs`.
 */
export async function waitUntilIdle(
  groups: Set<number>,
  {
    cores = 0.05,
    windowMs = 2_000,
    timeoutMs = 180_000,
  }: { cores?: number; windowMs?: number; timeoutMs?: number } = {},
) {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const meter = startCpuMeter(groups);
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    if (meter.stop().ownCores < cores) return (Date.now() - started) / 1000;
  }
  return null;
}
