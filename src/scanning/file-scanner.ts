import { ByteReader } from "./byte-reader";
import { type InflateFormat, InflateMeter, ScanDeferred, type SharedInflateBudget } from "./inflate-limit";
import { parsePickle } from "./pickle-parser";
import type { FileScan } from "../domain/scans";
import { Findings } from "./scan-findings";

/**
 * Scans one file's bytes, streaming, by content (never by name, except that a zip entry named
 * *.pkl is always read as a pickle). Recognizes pickles of every protocol (a file may hold several
 * in a row), joblib files (a pickle with raw numpy buffers inline), zip archives such as PyTorch
 * checkpoints (each entry walked through its local header; the central directory is checked
 * against the walk), gzip/zlib wrappers (joblib's compressors), numpy .npy files (an object array
 * is a pickle), and formats that carry no pickle (safetensors, ONNX, JSON, YAML, text, raw data),
 * which are clean by format.
 */
export async function scanStream(
  stream: ReadableStream<Uint8Array>,
  options: { shared?: SharedInflateBudget } = {},
): Promise<FileScan> {
  const r = ByteReader.of(stream);
  const f = new Findings();
  const meter = new InflateMeter(r, options.shared);
  f.inflate = meter;
  try {
    f.format = await scanContent(r, f, 0);
  } catch (error) {
    // A decompressed stream went past a limit: stop reading the file there (its other members
    // are not read either). Past the per-file limit the file is `unknown`; past the shared budget
    // of an inline scan it is not judged at all.
    if (meter.deferred) throw new ScanDeferred(String(error));
    if (meter.exceeded === null) throw error;
    f.entry = undefined;
    f.flag("unknown", meter.exceeded);
  } finally {
    await r.cancel();
  }
  return f.result(r.position);
}

const MAX_DEPTH = 4;
const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const DESCRIPTOR = 0x08074b50;
const MAX_ZIP_ENTRIES = 100_000;

// Little-endian fields at `i`: every caller has checked (or exact() guarantees) that they are in `b`.
const u16 = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const u32 = (b: Uint8Array, i: number) => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16)) + b[i + 3]! * 0x1000000;
const u64 = (b: Uint8Array, i: number) => u32(b, i) + u32(b, i + 4) * 0x100000000;
const startsWith = (head: Uint8Array, magic: number[]) => magic.every((m, i) => head[i] === m);
const utf8 = new TextDecoder();

/** Every byte a pickle may start with (CPython's opcode table). */
const OPCODES = new Set(
  Array.from("(.012FIJKLMNPQRSTUVXabcdeghijlopqrstu}])G")
    .map((c) => c.charCodeAt(0))
    .concat(Array.from({ length: 0x99 - 0x80 }, (_, i) => 0x80 + i)),
);

const COMPRESSED_UNREAD: [number[], string][] = [
  [[0x42, 0x5a, 0x68], "bz2"],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a], "xz"],
  [[0x5d, 0x00, 0x00], "lzma"],
  [[0x04, 0x22, 0x4d, 0x18], "lz4"],
  [[0x5a, 0x46], "joblib zfile (joblib < 0.9.3)"],
];

async function scanContent(r: ByteReader, f: Findings, depth: number): Promise<string> {
  const head = await r.peek(16);
  if (head.length === 0) return "empty";
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) return scanZip(r, f, depth);
  if (startsWith(head, [0x1f, 0x8b])) return `gzip:${await decompressed(r, f, depth, "gzip")}`;
  // A zlib header is two bytes (CMF 0x78, FLG): a one-byte file is not one.
  if (head[0] === 0x78 && head.length > 1 && (head[1]! & 0x20) === 0 && ((0x78 << 8) | head[1]!) % 31 === 0)
    return `zlib:${await decompressed(r, f, depth, "deflate")}`;
  for (const [magic, name] of COMPRESSED_UNREAD) {
    if (startsWith(head, magic)) {
      f.flag("unknown", `compressed with ${name}, which the scanner does not open (joblib.load would)`);
      return name;
    }
  }
  if (startsWith(head, [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])) return scanNpy(r, f, depth);
  if (head[0] === 0x80 && head.length > 1 && head[1]! <= 5) return scanPickles(r, f, depth);
  if (
    head.length >= 9 &&
    head[8] === 0x7b &&
    u64(head, 0) < 100_000_000 &&
    head[1]! + head[2]! + head[3]! + head[4]! + head[5]! + head[6]! + head[7]! < 0x60
  ) {
    return "safetensors";
  }
  if (OPCODES.has(head[0]!)) {
    // Protocols 0 and 1 start without PROTO: a trial parse decides. A stream that fails before
    // importing anything cannot have run code, so it is read as what it looks like.
    const trial = new Findings();
    trial.entry = f.entry;
    const end = await parsePickle(r, trial, { depth });
    if (end.end === "stop" || trial.importCount > 0) {
      f.merge(trial);
      if (end.end === "error") f.flag("unknown", `not a complete pickle: ${end.message} (byte ${end.offset})`);
      else return scanPickles(r, f, depth, true);
      return "pickle";
    }
  }
  return looksLikeText(head) ? "text" : "data";
}

function looksLikeText(head: Uint8Array): boolean {
  return head.every((b) => b === 9 || b === 10 || b === 13 || b >= 0x20);
}

/** One pickle after another until the stream ends (a file may be read by several load() calls). */
async function scanPickles(r: ByteReader, f: Findings, depth: number, afterFirst = false): Promise<string> {
  for (let first = !afterFirst; ; first = false) {
    const end = await parsePickle(r, f, { depth });
    if (end.end === "empty") break;
    if (end.end === "error") {
      f.flag(
        "unknown",
        `${first ? "not a complete pickle" : "bytes after the pickle are not a complete pickle"}: ${end.message} (byte ${end.offset})`,
      );
      break;
    }
  }
  return f.imported("joblib.numpy_pickle.NumpyArrayWrapper") ? "joblib" : "pickle";
}

async function decompressed(r: ByteReader, f: Findings, depth: number, format: "gzip" | "deflate"): Promise<string> {
  if (depth >= MAX_DEPTH) {
    f.flag("unknown", "compressed streams nested too deep");
    return "nested";
  }
  const inner = ByteReader.of(inflate(f, r, r.region(Infinity), format));
  try {
    return await scanContent(inner, f, depth + 1);
  } catch (error) {
    if (f.inflate?.stopped) throw error;
    // A corrupt compressed stream: whatever loader reads it fails at the same point.
    f.flag("unknown", `${format} stream does not decompress: ${String(error)}`);
    return "corrupt";
  } finally {
    await inner.cancel();
  }
}

/** `input` (a region of `from`) decompressed, within the file's limits (scanStream sets the meter). */
function inflate(
  f: Findings,
  from: ByteReader,
  input: ReadableStream<Uint8Array>,
  format: InflateFormat,
): ReadableStream<Uint8Array> {
  if (!f.inflate) throw new Error("decompressing outside scanStream, without its limits");
  return f.inflate.inflate(from, input, format);
}

/** A .npy file: a header, then raw data, or a pickle when the dtype holds objects (allow_pickle). */
async function scanNpy(r: ByteReader, f: Findings, depth: number): Promise<string> {
  const pre = await r.exact(8);
  const major = pre?.[6] ?? 0;
  const lenBytes = await r.exact(major === 1 ? 2 : 4);
  if (!pre || !lenBytes) return "numpy";
  const length = major === 1 ? u16(lenBytes, 0) : u32(lenBytes, 0);
  const header = await r.exact(Math.min(length, 65536));
  if (!header || length > 65536) {
    f.flag("unknown", "a .npy header the scanner could not read");
    return "numpy";
  }
  if (!/'descr':\s*'[|<>=]?O/.test(utf8.decode(header)) && !/'descr':\s*\[/.test(utf8.decode(header))) return "numpy";
  await scanPickles(r, f, depth);
  return "numpy-object";
}

async function scanZip(r: ByteReader, f: Findings, depth: number): Promise<string> {
  const start = r.position;
  const seen = new Map<number, string>();
  let format = "zip";
  for (;;) {
    const offset = r.position - start;
    const sig = await r.exact(4);
    if (!sig) {
      f.flag("unknown", "the zip ends without a central directory");
      return format;
    }
    const kind = u32(sig, 0);
    if (kind === CENTRAL) {
      await checkCentralDirectory(r, f, seen);
      return format;
    }
    if (kind !== LOCAL) {
      f.flag("unknown", `unexpected bytes at offset ${offset} of the zip`);
      return format;
    }
    const h = await r.exact(26);
    const nameBytes = h && (await r.exact(u16(h, 22)));
    const nameCopy = nameBytes && utf8.decode(nameBytes);
    const extra = h && nameBytes && (await r.exact(u16(h, 24)));
    if (!h || nameCopy === null || !extra) {
      f.flag("unknown", "truncated zip header");
      return format;
    }
    const name = nameCopy;
    const flags = u16(h, 2);
    const method = u16(h, 4);
    let csize = u32(h, 14);
    let usize = u32(h, 18);
    if (csize === 0xffffffff || usize === 0xffffffff) [usize, csize] = zip64Sizes(extra, usize, csize);
    if (seen.size < MAX_ZIP_ENTRIES) seen.set(offset, name);
    if (/(^|\/)data\.pkl$/.test(name)) format = "pytorch-zip";
    if (flags & 8 && csize === 0) {
      f.flag(
        "unknown",
        `zip entry '${name}' gives its size only after its data (a data descriptor): the scan cannot walk past it`,
      );
      return format;
    }
    const dataEnd = r.position + csize;
    f.entry = name;
    if (flags & 1) f.flag("unknown", "an encrypted zip entry");
    else if (method === 0) {
      const outer = r.end;
      r.end = dataEnd;
      await scanEntry(r, f, name, depth);
      r.end = outer;
    } else if (method === 8) {
      const inner = ByteReader.of(inflate(f, r, r.region(csize), "deflate-raw"));
      try {
        await scanEntry(inner, f, name, depth);
      } catch (error) {
        if (f.inflate?.stopped) throw error;
        f.flag("unknown", `a deflated entry does not decompress: ${String(error)}`);
      } finally {
        await inner.cancel();
      }
    } else if (/\.pkl$/i.test(name))
      f.flag("unknown", `compressed with zip method ${method}, which the scanner does not open`);
    f.entry = undefined;
    if (!(await r.skip(dataEnd - r.position))) {
      f.flag("unknown", `the zip is truncated inside '${name}'`);
      return format;
    }
    if (flags & 8) await skipDescriptor(r);
  }
}

/** An entry: *.pkl is always a pickle; any other entry only if its content is a pickle or an archive. */
async function scanEntry(r: ByteReader, f: Findings, name: string, depth: number): Promise<void> {
  if (depth >= MAX_DEPTH) {
    f.flag("unknown", "archives nested too deep");
    return;
  }
  if (/\.pkl$/i.test(name)) {
    await scanContent(r, f, depth + 1);
    return;
  }
  const head = await r.peek(4);
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x1f, 0x8b])) {
    await scanContent(r, f, depth + 1);
    return;
  }
  // A one-byte entry (0x80 alone) is no pickle.
  if (head[0] === 0x80 && head.length > 1 && head[1]! <= 5) {
    // Tensor bytes may start like a pickle by chance: only a complete pickle that imports counts.
    const trial = new Findings();
    trial.entry = f.entry;
    const end = await parsePickle(r, trial, { depth: depth + 1 });
    if (end.end === "stop" && trial.importCount > 0) f.merge(trial);
  }
}

function zip64Sizes(extra: Uint8Array, usize: number, csize: number): [number, number] {
  for (let i = 0; i + 4 <= extra.length; ) {
    const id = u16(extra, i);
    const size = u16(extra, i + 2);
    if (id === 1) {
      let p = i + 4;
      if (usize === 0xffffffff && p + 8 <= extra.length) (usize = u64(extra, p)), (p += 8);
      if (csize === 0xffffffff && p + 8 <= extra.length) csize = u64(extra, p);
      break;
    }
    i += 4 + size;
  }
  return [usize, csize];
}

async function skipDescriptor(r: ByteReader): Promise<void> {
  const first = await r.exact(4);
  if (first && u32(first, 0) === DESCRIPTOR) await r.skip(12);
  else await r.skip(8);
  const next = await r.peek(4);
  if (next.length === 4 && u32(next, 0) !== LOCAL && u32(next, 0) !== CENTRAL) await r.skip(8);
}

/**
 * zipfile and torch.load find entries through the central directory, not the local headers: an
 * entry listed there at an offset the walk did not see (a pickle hidden inside another entry's
 * data) would be loaded unscanned.
 */
async function checkCentralDirectory(r: ByteReader, f: Findings, seen: Map<number, string>): Promise<void> {
  for (let first = true; ; first = false) {
    if (!first) {
      const sig = await r.exact(4);
      if (!sig || u32(sig, 0) !== CENTRAL) return;
    }
    const h = await r.exact(42);
    if (!h) return f.flag("unknown", "truncated zip central directory");
    const nameBytes = await r.exact(u16(h, 24));
    const name = nameBytes ? utf8.decode(nameBytes) : "";
    const extra = (await r.exact(u16(h, 26)))?.slice() ?? new Uint8Array(0);
    await r.skip(u16(h, 28));
    let offset = u32(h, 38);
    if (offset === 0xffffffff) {
      const p = 4 + (u32(h, 20) === 0xffffffff ? 8 : 0) + (u32(h, 16) === 0xffffffff ? 8 : 0);
      for (let i = 0; i + 4 <= extra.length; i += 4 + u16(extra, i + 2)) {
        if (u16(extra, i) === 1 && i + p + 8 <= extra.length) offset = u64(extra, i + p);
        if (u16(extra, i) === 1) break;
      }
    }
    if (seen.size < MAX_ZIP_ENTRIES && seen.get(offset) !== name) {
      f.flag(
        "unknown",
        `the zip's central directory lists '${name}' at offset ${offset}, where the scan did not find it`,
      );
    }
    const next = await r.peek(4);
    if (next.length < 4 || u32(next, 0) !== CENTRAL) return;
  }
}
