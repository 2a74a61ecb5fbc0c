// Plain text formatting for the pages: sizes, times, numbers, and quoting for copy-paste snippets.

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return i === 0 ? `${value} B` : `${value.toFixed(1)} ${units[i]}`;
}

/** `2026-05-02 14:03 UTC`: the server renders one unambiguous zone rather than guess the reader's. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  return `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** Metric values: up to 6 significant digits, NaN and the stored ±Infinity spelled out. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value >= Number.MAX_VALUE) return "Infinity";
  if (value <= -Number.MAX_VALUE) return "-Infinity";
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const text = value.toPrecision(6);
  return text.includes("e") ? text : String(Number(text));
}

/** A POSIX shell word: bare when safe, single-quoted otherwise. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A Python string literal (JSON's escaping is valid Python for strings). */
export function pythonString(text: string): string {
  return JSON.stringify(text);
}

export function shortId(id: string): string {
  return id.length > 12 ? id.slice(0, 8) : id;
}
