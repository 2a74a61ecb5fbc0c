import type { PullProgress } from "../client/pull";

const REDRAW_MS = 100;

/**
 * One line on stderr, redrawn in place: bar, bytes done / total, files done / total, speed.
 * Drawn only on a terminal: piped into a log it would be a wall of carriage returns.
 */
export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;
  private readonly started = Date.now();

  constructor(private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }) {}

  get enabled(): boolean {
    return this.out.isTTY === true;
  }

  update(p: PullProgress, force = false) {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    this.drawn = true;
    this.out.write(`\r\x1b[K${this.line(p, now)}`);
  }

  /** Leaves the last state on screen and moves to the next line. */
  finish(p?: PullProgress) {
    if (p) this.update(p, true);
    if (this.drawn) this.out.write("\n");
    this.drawn = false;
  }

  private line(p: PullProgress, now: number): string {
    const fraction = p.bytesTotal === 0 ? (p.filesDone === p.filesTotal ? 1 : 0) : p.bytesDone / p.bytesTotal;
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const text = ` ${Math.floor(fraction * 100)}%  ${formatBytes(p.bytesDone)} / ${formatBytes(p.bytesTotal)}  ${p.filesDone}/${p.filesTotal} files  ${formatBytes(p.bytesDone / seconds)}/s`;
    const width = Math.max(10, Math.min(30, (this.out.columns ?? 80) - text.length - 3));
    const filled = Math.round(fraction * width);
    return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]${text}`;
  }
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(n)} B` : `${n.toFixed(1)} ${units[i]}`;
}
