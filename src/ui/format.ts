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

/**
 * A version's source in a few words for a table cell (the full URI goes in its title): the run and
 * folder for a run's artifacts, the logged model's id for MLflow 3's, else the scheme, first and
 * last parts of a long URI.
 */
export function shortSource(source: string): string {
  const runArtifacts = /^mlflow-artifacts:\/+\d+\/([0-9a-f]{32})\/artifacts\/?(.*)$/i.exec(source);
  if (runArtifacts) return `run ${shortId(runArtifacts[1]!)}${runArtifacts[2] ? ` · ${runArtifacts[2]}` : ""}`;
  const loggedModel = /^mlflow-artifacts:\/+\d+\/models\/(m-[0-9a-f]+)\/artifacts\/?(.*)$/i.exec(source);
  if (loggedModel) return `logged model ${loggedModel[1]!.slice(0, 10)}${loggedModel[2] ? ` · ${loggedModel[2]}` : ""}`;
  const runs = /^runs:\/+([0-9a-f]{32})\/?(.*)$/i.exec(source);
  if (runs) return `runs:/${shortId(runs[1]!)}…/${runs[2]}`;
  if (source.length <= 40) return source;
  const scheme = /^([a-z][\w+.-]*:\/*)([^/]*)(.*)$/i.exec(source);
  if (scheme) {
    const parts = scheme[3]!.split("/").filter(Boolean);
    const last = parts.at(-1) ?? "";
    const shown = `${scheme[1]}${scheme[2]}/…/${last}`;
    if (shown.length < source.length) return shown.length <= 48 ? shown : `${shown.slice(0, 24)}…${shown.slice(-20)}`;
  }
  return `${source.slice(0, 24)}…${source.slice(-20)}`;
}

/** `3 min 20 s`, `2 h 5 min`, `850 ms`. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min${s % 60 ? ` ${s % 60} s` : ""}`;
  const h = Math.floor(min / 60);
  return `${h} h${min % 60 ? ` ${min % 60} min` : ""}`;
}
