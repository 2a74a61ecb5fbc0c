import { SingleBar } from "cli-progress";
import type { CliContext } from "./command";

/** Bytes and files moved so far: what pull and push report. */
export interface TransferProgress {
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
}

/**
 * A cli-progress bar on stderr for a transfer: bytes, files and speed. It draws only on a
 * terminal (piped into a CI log it would be a wall of carriage returns) and never with --json.
 */
export class TransferBar {
  private readonly bar: SingleBar | undefined;
  private started = false;
  private readonly since = Date.now();

  constructor(stream: CliContext["stderr"], enabled: boolean) {
    if (!enabled || stream.isTTY !== true) return;
    this.bar = new SingleBar({
      stream: stream as NodeJS.WritableStream,
      format: "[{bar}] {percentage}% | {value} / {total} | {files} files | {speed}/s",
      formatValue: (value, _options, type) =>
        type === "value" || type === "total" ? formatBytes(Number(value)) : String(value),
      barsize: 30,
      hideCursor: false,
      clearOnComplete: false,
      gracefulExit: true,
    });
  }

  update(p: TransferProgress): void {
    if (!this.bar) return;
    const payload = {
      files: `${p.filesDone}/${p.filesTotal}`,
      speed: formatBytes(p.bytesDone / Math.max((Date.now() - this.since) / 1000, 0.001)),
    };
    // cli-progress divides by the total: an empty transfer counts as one byte, done when its files are.
    const total = Math.max(p.bytesTotal, 1);
    const value = p.bytesTotal === 0 ? (p.filesDone === p.filesTotal ? 1 : 0) : p.bytesDone;
    if (!this.started) {
      this.bar.start(total, value, payload);
      this.started = true;
    } else {
      this.bar.setTotal(total);
      this.bar.update(value, payload);
    }
  }

  /** Draws the last state and leaves it on screen. */
  stop(): void {
    if (this.started) this.bar?.stop();
    this.started = false;
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
