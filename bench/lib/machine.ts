// What the numbers were measured on.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";

/** The workerd package a given package (miniflare, or wrangler for `wrangler dev`) runs. */
function workerdOf(root: string, owner: string) {
  const ownerRequire = createRequire(path.join(root, "node_modules", owner, "package.json"));
  const pkg = ownerRequire.resolve("workerd/package.json");
  const version = JSON.parse(readFileSync(pkg, "utf8")).version;
  const binary: string = createRequire(pkg)("workerd").default;
  return { version, binary, reports: execFileSync(binary, ["--version"], { encoding: "utf8" }).trim() };
}

const versionOf = (root: string, name: string): string =>
  JSON.parse(readFileSync(path.join(root, "node_modules", name, "package.json"), "utf8")).version;

export function describeMachine(root: string, wrkVersion: string | null) {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const memKb = Number(readFileSync("/proc/meminfo", "utf8").match(/^MemTotal:\s+(\d+)/m)?.[1] ?? 0);
  const miniflareWorkerd = workerdOf(root, "miniflare");
  const wranglerWorkerd = workerdOf(root, "wrangler");
  return {
    nproc: Number(execFileSync("nproc", { encoding: "utf8" }).trim()),
    cpuModel: cpuinfo.match(/^model name\s*:\s*(.*)$/m)?.[1]?.trim() ?? "unknown",
    memoryGiB: Math.round((memKb / 1024 / 1024) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    workerd: miniflareWorkerd.version,
    workerdBinary: miniflareWorkerd.binary,
    workerdReports: miniflareWorkerd.reports,
    wranglerDevWorkerd: wranglerWorkerd.version,
    miniflare: versionOf(root, "miniflare"),
    wrangler: versionOf(root, "wrangler"),
    wrk: wrkVersion,
  };
}
