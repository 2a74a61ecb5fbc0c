import type { FileScan, ImportFinding, Verdict } from "../domain/scans";
import { classifyGlobal, worst } from "./allow-list";
import type { InflateMeter } from "./inflate-limit";

const MAX_IMPORTS = 500;
const MAX_CALLS = 500;
const MAX_REASONS = 50;

/** Accumulates one file's findings across its nested streams; bounded. */
export class Findings {
  verdict: Verdict = "clean";
  format = "data";
  private readonly imports = new Map<string, ImportFinding>();
  private readonly calls = new Set<string>();
  private readonly reasons: string[] = [];
  /** Set while scanning inside a zip entry or nested pickle. */
  entry: string | undefined;
  /** Counts what the file's compressed streams decompress to (set by scanStream). */
  inflate: InflateMeter | undefined;

  addImport(name: string, via: "import" | "reach" = "import", verdict: Verdict = classifyGlobal(name)): void {
    this.verdict = worst(this.verdict, verdict);
    const key = `${this.entry ?? ""}\0${name}\0${via}`;
    if (this.imports.has(key) || this.imports.size >= MAX_IMPORTS) return;
    this.imports.set(key, { name, verdict, via, ...(this.entry ? { entry: this.entry } : {}) });
  }

  addCall(call: string): void {
    if (this.calls.size < MAX_CALLS) this.calls.add(call);
  }

  flag(verdict: Verdict, reason: string): void {
    this.verdict = worst(this.verdict, verdict);
    const text = this.entry ? `${this.entry}: ${reason}` : reason;
    if (this.reasons.length < MAX_REASONS && !this.reasons.includes(text)) this.reasons.push(text);
  }

  /** Takes in what a trial parse found, once the caller knows the stream was a pickle. */
  merge(other: Findings): void {
    this.verdict = worst(this.verdict, other.verdict);
    for (const [key, value] of other.imports)
      if (!this.imports.has(key) && this.imports.size < MAX_IMPORTS) this.imports.set(key, value);
    for (const call of other.calls) this.addCall(call);
    for (const reason of other.reasons)
      if (this.reasons.length < MAX_REASONS && !this.reasons.includes(reason)) this.reasons.push(reason);
  }

  /** Whether any recorded import names `global` (e.g. joblib's array wrapper marks a joblib file). */
  imported(global: string): boolean {
    for (const finding of this.imports.values()) if (finding.name === global) return true;
    return false;
  }

  get importCount(): number {
    return this.imports.size;
  }

  result(bytes: number): FileScan {
    return {
      verdict: this.verdict,
      format: this.format,
      imports: [...this.imports.values()],
      calls: [...this.calls],
      reasons: this.reasons,
      bytes,
    };
  }
}
