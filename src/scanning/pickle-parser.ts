import { canonicalGlobal, RESOLVERS } from "./allow-list";
import { ByteReader, NEED_MORE } from "./byte-reader";
import type { Findings } from "./scan-findings";

/**
 * A pickle virtual machine that executes nothing: it walks the opcodes of one pickle (protocols
 * 0–5, every opcode of CPython's Lib/pickle.py) over a stream, keeping a symbolic stack in which
 * only what names a callable survives (short strings, globals, small tuples and dicts, the results
 * of calls). Bulk payloads (BINBYTES8, long strings, joblib's raw arrays) are skipped unread.
 *
 * Memory is bounded: at most MAX_STACK stack entries, MAX_MEMO memo entries of interest, strings
 * kept to MAX_STRING bytes, containers to MAX_ITEMS items. Hitting a bound makes the verdict
 * `unknown`, never a crash.
 */

const MAX_STACK = 100_000;
const MAX_MARKS = 10_000;
const MAX_MEMO = 100_000;
const MAX_STRING = 256;
const MAX_ITEMS = 64;
const MAX_NAME_LINE = 1024;
/** Nested pickles (joblib object arrays, pickle.loads payloads) scanned inside a pickle. */
const MAX_NESTING = 4;
const NESTED_BYTES_MAX = 1 << 20;

type Val =
  | { t: "other" }
  | { t: "str"; v: string | null }
  | { t: "bytes"; v: Uint8Array | null }
  | { t: "int"; v: number }
  | { t: "none" }
  | { t: "tuple"; items: Val[] | null }
  | { t: "list"; items: Val[] | null }
  | { t: "dict"; map: Map<string, Val> | null }
  | { t: "global"; name: string }
  | { t: "module"; name: string }
  | { t: "obj"; cls: string | null; descr?: string; elsize?: number; objects?: boolean };

const OTHER: Val = { t: "other" };
/** MARK POP POP_MARK DUP TUPLE1-3 TUPLE LIST DICT APPEND APPENDS SETITEM SETITEMS NEWOBJ STACK_GLOBAL */
const NO_ARGS = new Set([
  0x28, 0x30, 0x31, 0x32, 0x85, 0x86, 0x87, 0x74, 0x6c, 0x64, 0x61, 0x65, 0x73, 0x75, 0x81, 0x93,
]);
const NONE: Val = { t: "none" };

export class PickleError extends Error {}

export type ParseEnd =
  /** A complete pickle, up to and including STOP. */
  | { end: "stop" }
  /** The stream ended before the first opcode. */
  | { end: "empty" }
  /** Not a pickle past this point: truncated, an invalid opcode or argument, or a bound reached. */
  | { end: "error"; message: string; offset: number };

export interface ParseOptions {
  /** Nesting depth of this pickle (0 for a file's own). */
  depth: number;
}

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder("utf-8");
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

// Each takes exactly the bytes it reads (from exact()/bytes() or an available() takeSync()).
const u16 = (b: Uint8Array) => b[0]! | (b[1]! << 8);
const u32 = (b: Uint8Array) => (b[0]! | (b[1]! << 8) | (b[2]! << 16)) + b[3]! * 0x1000000;
const i32 = (b: Uint8Array) => b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24);
/** An 8-byte little-endian length; beyond 2^53 it is no real length (and refused). */
const u64 = (b: Uint8Array) => u32(b) + u32(b.subarray(4)) * 0x100000000;

/** Parses one pickle from `r` (up to STOP), reporting into `f`. Never throws for bad input. */
export async function parsePickle(r: ByteReader, f: Findings, options: ParseOptions = { depth: 0 }): Promise<ParseEnd> {
  const vm = new PickleVm(r, f, options.depth);
  try {
    return await vm.run();
  } catch (error) {
    if (error instanceof PickleError) return { end: "error", message: error.message, offset: r.position };
    throw error;
  }
}

class PickleVm {
  private readonly stack: Val[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, Val>();
  private memoOverflow = false;
  private started = false;

  constructor(
    private readonly r: ByteReader,
    private readonly f: Findings,
    private readonly depth: number,
  ) {}

  private fail(message: string): never {
    throw new PickleError(message);
  }

  private push(v: Val): void {
    if (this.stack.length >= MAX_STACK) this.fail(`stack deeper than ${MAX_STACK} entries`);
    this.stack.push(v);
  }

  private pop(): Val {
    if (this.stack.length === (this.marks.at(-1) ?? 0)) this.fail("stack underflow");
    return this.stack.pop()!;
  }

  private top(): Val {
    if (this.stack.length === (this.marks.at(-1) ?? 0)) this.fail("stack underflow");
    return this.stack[this.stack.length - 1]!;
  }

  private popMark(): Val[] {
    const mark = this.marks.pop();
    if (mark === undefined) this.fail("no MARK on the stack");
    return this.stack.splice(mark);
  }

  private async bytes(n: number): Promise<Uint8Array> {
    const b = await this.r.exact(n);
    if (!b) this.fail("truncated");
    return b;
  }

  private async byte(): Promise<number> {
    let b = this.r.tryByte();
    if (b === NEED_MORE) b = await this.r.byte();
    if (b < 0) this.fail("truncated");
    return b;
  }

  private async line(keep = MAX_STRING): Promise<{ text: string; whole: boolean }> {
    const l = await this.r.line(keep);
    if (!l) this.fail("truncated");
    const head = l.head.at(-1) === 13 ? l.head.subarray(0, -1) : l.head;
    return { text: latin1.decode(head), whole: l.length <= keep };
  }

  /** A length-prefixed payload: kept when short (a name, a nested pickle), skipped otherwise. */
  private async payload(n: number, keep: number): Promise<Uint8Array | null> {
    if (!Number.isSafeInteger(n) || n < 0) this.fail("invalid length");
    if (n <= keep) return (await this.bytes(n)).slice();
    if (!(await this.r.skip(n))) this.fail("truncated");
    return null;
  }

  private async str(n: number, decoder: TextDecoder = utf8): Promise<Val> {
    const b = await this.payload(n, MAX_STRING);
    return { t: "str", v: b ? decoder.decode(b) : null };
  }

  private global(module: string, name: string): Val {
    const full = canonicalGlobal(module, name);
    this.f.addImport(full);
    return { t: "global", name: full };
  }

  private async lineGlobal(opcode: string): Promise<string> {
    const module = await this.line(MAX_NAME_LINE);
    const name = await this.line(MAX_NAME_LINE);
    if (!module.whole || !name.whole || !IDENTIFIER.test(module.text) || !IDENTIFIER.test(name.text)) {
      this.fail(`${opcode} with an invalid module or name`);
    }
    return canonicalGlobal(module.text, name.text);
  }

  async run(): Promise<ParseEnd> {
    for (;;) {
      let op = this.r.tryByte();
      if (op === NEED_MORE) op = await this.r.byte();
      if (op < 0) {
        if (!this.started) return { end: "empty" };
        this.fail("truncated before STOP");
      }
      this.started = true;
      const fast = this.r.available() >= 8 ? this.fast(op) : undefined;
      if (fast === undefined ? await this.step(op) : fast) return { end: "stop" };
    }
  }

  /**
   * The common opcodes whose arguments are already in the chunk in hand (at least 8 bytes are),
   * executed without an await: a pickle of many small objects is opcode-dense, and a promise per
   * opcode would cost most of the scan. undefined: not handled here, nothing consumed.
   */
  private fast(op: number): boolean | undefined {
    const r = this.r;
    switch (op) {
      case 0x4b: // BININT1
        this.push({ t: "int", v: r.takeSync(1)[0]! });
        return false;
      case 0x4d: // BININT2
        this.push({ t: "int", v: u16(r.takeSync(2)) });
        return false;
      case 0x4a: // BININT
        this.push({ t: "int", v: i32(r.takeSync(4)) });
        return false;
      case 0x47: // BINFLOAT
        r.takeSync(8);
        this.push(OTHER);
        return false;
      case 0x71: // BINPUT
        this.put(r.takeSync(1)[0]!);
        return false;
      case 0x72: // LONG_BINPUT
        this.put(u32(r.takeSync(4)));
        return false;
      case 0x94: // MEMOIZE
        this.put(this.memo.size);
        return false;
      case 0x68: // BINGET
        this.get(r.takeSync(1)[0]!);
        return false;
      case 0x6a: // LONG_BINGET
        this.get(u32(r.takeSync(4)));
        return false;
      case 0x95: // FRAME
        r.takeSync(8);
        return false;
      case 0x8c: {
        // SHORT_BINUNICODE
        const n = r.peekSync(0);
        if (n < 0 || r.available() < 1 + n) return undefined;
        r.takeSync(1);
        this.push({ t: "str", v: n <= MAX_STRING ? utf8.decode(r.takeSync(n)) : (r.takeSync(n), null) });
        return false;
      }
      case 0x4e: // NONE
        this.push(NONE);
        return false;
      case 0x88: // NEWTRUE
      case 0x89: // NEWFALSE
        this.push(OTHER);
        return false;
      case 0x29: // EMPTY_TUPLE
        this.push({ t: "tuple", items: [] });
        return false;
      case 0x5d: // EMPTY_LIST
        this.push({ t: "list", items: [] });
        return false;
      case 0x7d: // EMPTY_DICT
        this.push({ t: "dict", map: new Map() });
        return false;
      case 0x52: {
        // REDUCE, unless its arguments hold bytes (a nested pickle to scan: the async path)
        const args = this.top();
        if (args.t === "tuple" && args.items?.some((v) => v.t === "bytes")) return undefined;
        this.pop();
        const callee = this.pop();
        this.push(this.call("REDUCE", callee, args));
        return false;
      }
      case 0x28: // MARK
      case 0x30: // POP
      case 0x31: // POP_MARK
      case 0x32: // DUP
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: // TUPLE3
      case 0x74: // TUPLE
      case 0x6c: // LIST
      case 0x64: // DICT
      case 0x61: // APPEND
      case 0x65: // APPENDS
      case 0x73: // SETITEM
      case 0x75: // SETITEMS
      case 0x81: // NEWOBJ
      case 0x93: // STACK_GLOBAL
        return this.stepNoArgs(op);
      default:
        return undefined;
    }
  }

  /** Opcodes without arguments: the same code for the fast and the async path. */
  private stepNoArgs(op: number): boolean {
    switch (op) {
      case 0x28: // MARK
        if (this.marks.length >= MAX_MARKS) this.fail(`more than ${MAX_MARKS} nested MARKs`);
        this.marks.push(this.stack.length);
        return false;
      case 0x30: // POP
        if (this.stack.length > (this.marks.at(-1) ?? 0)) this.stack.pop();
        else this.popMark();
        return false;
      case 0x31: // POP_MARK
        this.popMark();
        return false;
      case 0x32: // DUP
        this.push(this.top());
        return false;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: {
        // TUPLE3
        const n = op - 0x84;
        const items: Val[] = [];
        for (let i = 0; i < n; i++) items.unshift(this.pop());
        this.push({ t: "tuple", items });
        return false;
      }
      case 0x74: {
        // TUPLE
        const items = this.popMark();
        this.push({ t: "tuple", items: items.length <= MAX_ITEMS ? items : null });
        return false;
      }
      case 0x6c: {
        // LIST
        const items = this.popMark();
        this.push({ t: "list", items: items.length <= MAX_ITEMS ? items : null });
        return false;
      }
      case 0x64: {
        // DICT
        const items = this.popMark();
        const d: Val = { t: "dict", map: new Map() };
        for (let i = 0; i + 1 < items.length; i += 2) setItem(d, items[i]!, items[i + 1]!);
        this.push(d);
        return false;
      }
      case 0x61: {
        // APPEND
        const v = this.pop();
        this.appendTo(this.top(), [v], "append");
        return false;
      }
      case 0x65: {
        // APPENDS
        const items = this.popMark();
        this.appendTo(this.top(), items, "extend");
        return false;
      }
      case 0x73: {
        // SETITEM
        const v = this.pop();
        const k = this.pop();
        this.setItems(this.top(), [k, v]);
        return false;
      }
      case 0x75: {
        // SETITEMS
        const items = this.popMark();
        this.setItems(this.top(), items);
        return false;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = this.pop();
        const cls = this.pop();
        this.push(this.call("NEWOBJ", cls, args));
        return false;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = this.pop();
        const module = this.pop();
        if (module.t !== "str" || name.t !== "str" || module.v === null || name.v === null) {
          this.f.addImport("<unresolved STACK_GLOBAL>", "import", "unsafe");
          this.f.flag("unsafe", "STACK_GLOBAL whose module and name the scanner could not resolve");
          this.push(OTHER);
        } else this.push(this.global(module.v, name.v));
        return false;
      }
      default:
        return this.fail(`invalid opcode 0x${op.toString(16)}`);
    }
  }

  /** Executes one opcode; true at STOP. */
  private async step(op: number): Promise<boolean> {
    if (NO_ARGS.has(op)) return this.stepNoArgs(op);
    switch (op) {
      case 0x2e: // STOP
        if (this.stack.length === 0) this.fail("STOP on an empty stack");
        return true;
      case 0x80: {
        // PROTO
        const proto = await this.byte();
        if (proto > 5) this.fail(`unsupported protocol ${proto}`);
        return false;
      }
      case 0x95: // FRAME: the frame's opcodes follow inline
        await this.bytes(8);
        return false;
      case 0x4e: // NONE
        this.push(NONE);
        return false;
      case 0x88: // NEWTRUE
      case 0x89: // NEWFALSE
        this.push(OTHER);
        return false;
      case 0x49: // INT
      case 0x4c: {
        // LONG
        const l = await this.line(64);
        const text = l.text.replace(/L$/, "");
        if (l.whole && !/^[-+]?\d+$/.test(text) && !(op === 0x49 && (text === "00" || text === "01")))
          this.fail("INT/LONG with a non-number");
        const n = Number(text);
        this.push(l.whole && Number.isSafeInteger(n) ? { t: "int", v: n } : OTHER);
        return false;
      }
      case 0x46: // FLOAT
        await this.line(64);
        this.push(OTHER);
        return false;
      case 0x4a: // BININT
        this.push({ t: "int", v: i32(await this.bytes(4)) });
        return false;
      case 0x4b: // BININT1
        this.push({ t: "int", v: await this.byte() });
        return false;
      case 0x4d: // BININT2
        this.push({ t: "int", v: u16(await this.bytes(2)) });
        return false;
      case 0x8a: {
        // LONG1
        const n = await this.byte();
        const b = await this.payload(n, 8);
        this.push(b && n <= 6 ? { t: "int", v: signedLE(b) } : OTHER);
        return false;
      }
      case 0x8b: // LONG4
        await this.payload(u32(await this.bytes(4)), 0);
        this.push(OTHER);
        return false;
      case 0x47: // BINFLOAT
        await this.bytes(8);
        this.push(OTHER);
        return false;
      // --- strings and bytes
      case 0x53: {
        // STRING: a Python repr, quotes included
        const l = await this.line();
        const q = l.text[0];
        if (l.whole && (l.text.length < 2 || (q !== "'" && q !== '"') || l.text.at(-1) !== q))
          this.fail("STRING without quotes");
        this.push({ t: "str", v: l.whole ? unescapeRepr(l.text.slice(1, -1)) : null });
        return false;
      }
      case 0x56: {
        // UNICODE (raw-unicode-escape)
        const l = await this.line();
        this.push({
          t: "str",
          v: l.whole ? l.text.replace(/\\u([0-9a-fA-F]{4})/g, (_, h) => String.fromCharCode(parseInt(h, 16))) : null,
        });
        return false;
      }
      case 0x54: // BINSTRING (a str under Python 3's default encoding)
        this.push(await this.str(u32(await this.bytes(4)), latin1));
        return false;
      case 0x55: // SHORT_BINSTRING
        this.push(await this.str(await this.byte(), latin1));
        return false;
      case 0x58: // BINUNICODE
        this.push(await this.str(u32(await this.bytes(4))));
        return false;
      case 0x8c: // SHORT_BINUNICODE
        this.push(await this.str(await this.byte()));
        return false;
      case 0x8d: // BINUNICODE8
        this.push(await this.str(u64(await this.bytes(8))));
        return false;
      case 0x42: // BINBYTES
        this.push({ t: "bytes", v: await this.payload(u32(await this.bytes(4)), NESTED_BYTES_MAX) });
        return false;
      case 0x43: // SHORT_BINBYTES
        this.push({ t: "bytes", v: await this.payload(await this.byte(), 255) });
        return false;
      case 0x8e: // BINBYTES8
        this.push({ t: "bytes", v: await this.payload(u64(await this.bytes(8)), NESTED_BYTES_MAX) });
        return false;
      case 0x96: // BYTEARRAY8
        await this.payload(u64(await this.bytes(8)), 0);
        this.push(OTHER);
        return false;
      case 0x97: // NEXT_BUFFER (out-of-band buffer)
        this.push(OTHER);
        return false;
      case 0x98: // READONLY_BUFFER
        this.top();
        return false;
      // --- containers
      case 0x29: // EMPTY_TUPLE
        this.push({ t: "tuple", items: [] });
        return false;
      case 0x5d: // EMPTY_LIST
        this.push({ t: "list", items: [] });
        return false;
      case 0x7d: // EMPTY_DICT
        this.push({ t: "dict", map: new Map() });
        return false;
      case 0x8f: // EMPTY_SET
        this.push(OTHER);
        return false;
      case 0x91: // FROZENSET
        this.popMark();
        this.push(OTHER);
        return false;
      case 0x90: {
        // ADDITEMS
        this.popMark();
        const target = this.top();
        if (target.t === "obj") this.f.addCall(`ADDITEMS ${target.cls ?? "?"}.add`);
        return false;
      }
      // --- memo
      case 0x70: {
        // PUT
        const l = await this.line(32);
        if (!/^\d+$/.test(l.text)) this.fail("PUT with a non-number");
        this.put(Number(l.text));
        return false;
      }
      case 0x71: // BINPUT
        this.put(await this.byte());
        return false;
      case 0x72: // LONG_BINPUT
        this.put(u32(await this.bytes(4)));
        return false;
      case 0x94: // MEMOIZE
        this.put(this.memo.size);
        return false;
      case 0x67: {
        // GET
        const l = await this.line(32);
        if (!/^\d+$/.test(l.text)) this.fail("GET with a non-number");
        this.get(Number(l.text));
        return false;
      }
      case 0x68: // BINGET
        this.get(await this.byte());
        return false;
      case 0x6a: // LONG_BINGET
        this.get(u32(await this.bytes(4)));
        return false;
      // --- globals and calls
      case 0x63: {
        // GLOBAL
        const name = await this.lineGlobal("GLOBAL");
        this.f.addImport(name);
        this.push({ t: "global", name });
        return false;
      }
      case 0x69: {
        // INST: module and name on lines, arguments since the MARK
        const name = await this.lineGlobal("INST");
        this.f.addImport(name);
        const args = this.popMark();
        this.push(
          this.call("INST", { t: "global", name }, { t: "tuple", items: args.length <= MAX_ITEMS ? args : null }),
        );
        return false;
      }
      case 0x6f: {
        // OBJ: class and arguments since the MARK
        const items = this.popMark();
        if (items.length === 0) this.fail("OBJ without a class");
        this.push(
          this.call("OBJ", items[0]!, { t: "tuple", items: items.length <= MAX_ITEMS ? items.slice(1) : null }),
        );
        return false;
      }
      case 0x52: {
        // REDUCE
        const args = this.pop();
        const callee = this.pop();
        this.push(this.call("REDUCE", callee, args));
        await this.nestedBytes(callee, args);
        return false;
      }
      case 0x92: {
        // NEWOBJ_EX
        this.pop();
        const args = this.pop();
        const cls = this.pop();
        this.push(this.call("NEWOBJ_EX", cls, args));
        return false;
      }
      case 0x62: {
        // BUILD
        const state = this.pop();
        const target = this.top();
        await this.build(target, state);
        return false;
      }
      case 0x50: // PERSID
        await this.line();
        this.push({ t: "obj", cls: "<persistent>" });
        return false;
      case 0x51: // BINPERSID
        this.pop();
        this.push({ t: "obj", cls: "<persistent>" });
        return false;
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: {
        // EXT4: a global from copyreg's extension registry, which is empty unless code filled it
        const code =
          op === 0x82 ? await this.byte() : op === 0x83 ? u16(await this.bytes(2)) : u32(await this.bytes(4));
        this.f.addImport(`<copyreg extension ${code}>`, "import", "unknown");
        this.push(OTHER);
        return false;
      }
      default:
        this.fail(`invalid opcode 0x${op.toString(16).padStart(2, "0")}`);
    }
  }

  private put(index: number): void {
    const v = this.top();
    if (this.memo.has(index) || this.memo.size < MAX_MEMO) this.memo.set(index, v);
    else this.memoOverflow = true;
  }

  private get(index: number): void {
    const v = this.memo.get(index);
    if (v === undefined) {
      if (!this.memoOverflow) this.fail(`memo key ${index} missing`);
      this.push(OTHER);
    } else this.push(v);
  }

  private appendTo(target: Val, items: Val[], method: string): void {
    if (target.t === "list") {
      if (target.items && target.items.length + items.length <= MAX_ITEMS) target.items.push(...items);
      else target.items = null;
    } else if (target.t === "obj") this.f.addCall(`APPENDS ${target.cls ?? "?"}.${method}`);
  }

  private setItems(target: Val, items: Val[]): void {
    if (target.t === "dict") for (let i = 0; i + 1 < items.length; i += 2) setItem(target, items[i]!, items[i + 1]!);
    else if (target.t === "obj") this.f.addCall(`SETITEMS ${target.cls ?? "?"}.__setitem__`);
  }

  /** Records a call and returns what the scanner knows of its result. */
  private call(kind: string, callee: Val, args: Val): Val {
    const name = callee.t === "global" ? callee.name : callee.t === "module" ? callee.name : null;
    if (name === null) {
      this.f.addCall(`${kind} <computed callable>`);
      if (callee.t !== "obj" || callee.cls !== "<persistent>")
        this.f.flag("unknown", `${kind} of a value the scanner could not name`);
      return { t: "obj", cls: null };
    }
    this.f.addCall(`${kind} ${name}`);
    const items = args.t === "tuple" ? args.items : null;
    if (RESOLVERS.has(name)) return this.resolve(name, items);
    if (name === "numpy.dtype" && items?.[0]?.t === "str") {
      const descr = items[0].v ?? undefined;
      return {
        t: "obj",
        cls: name,
        descr,
        objects: descr === undefined || descr.replace(/^[<>|=]/, "").startsWith("O"),
      };
    }
    if (
      (name === "copyreg._reconstructor" || name === "copyreg.__newobj__" || name === "copyreg.__newobj_ex__") &&
      items?.[0]?.t === "global"
    ) {
      return { t: "obj", cls: items[0].name };
    }
    return { t: "obj", cls: name };
  }

  /** importlib.import_module('os'), getattr(<os>, 'system'), attrgetter('os.system'): what is reached. */
  private resolve(resolver: string, items: Val[] | null): Val {
    const strings = (items ?? [])
      .filter((v): v is { t: "str"; v: string } => v.t === "str" && v.v !== null)
      .map((v) => v.v);
    const base = items?.[0];
    const baseName = base && (base.t === "global" || base.t === "module") ? base.name : null;
    let reached: string | null = null;
    let module = false;
    if (
      resolver === "importlib.import_module" ||
      resolver === "builtins.__import__" ||
      resolver === "importlib.__import__"
    ) {
      reached = strings[0] ?? null;
      module = true;
    } else if (resolver === "builtins.getattr" || resolver === "inspect.getattr_static") {
      const attr = items?.[1];
      if (attr?.t === "str" && attr.v !== null) reached = baseName ? `${baseName}.${attr.v}` : `<object>.${attr.v}`;
    } else if (resolver === "pkgutil.resolve_name" || resolver === "pydoc.locate")
      reached = strings[0]?.replace(":", ".") ?? null;
    else reached = strings.join(", ") || null;
    this.f.flag("unsafe", `${resolver} resolves ${reached === null ? "a computed name" : `'${reached}'`} at load time`);
    if (reached === null) return { t: "obj", cls: null };
    this.f.addImport(reached, "reach", "unsafe");
    return module ? { t: "module", name: reached } : { t: "global", name: reached };
  }

  private async build(target: Val, state: Val): Promise<void> {
    if (target.t !== "obj") {
      if (target.t === "global" || target.t === "module") this.f.addCall(`BUILD ${target.name}.__setstate__`);
      return;
    }
    this.f.addCall(`BUILD ${target.cls ?? "?"}.__setstate__`);
    if (target.cls === "numpy.dtype") {
      // numpy's dtype state: (version, byteorder, subarray, names, fields, elsize, alignment, flags)
      const items = state.t === "tuple" ? state.items : null;
      if (!items) target.objects = true;
      else {
        const [elsize, fields, flags] = [items[5], items[4], items[7]];
        if (elsize?.t === "int" && elsize.v > 0) target.elsize = elsize.v;
        if (flags?.t === "int" && flags.v & 1) target.objects = true;
        if (items[2] && items[2].t !== "none") target.objects = true; // a subarray dtype: not followed
        if (fields && fields.t !== "none") {
          // Each field is (dtype, offset[, title]); a field the scanner cannot see might hold objects.
          const values = fields.t === "dict" && fields.map ? [...fields.map.values()] : null;
          const plain = (v: Val) =>
            v.t === "tuple" && v.items?.[0]?.t === "obj" && v.items[0].cls === "numpy.dtype" && !v.items[0].objects;
          if (!values?.every(plain)) target.objects = true;
        }
      }
    }
    if (target.cls === "joblib.numpy_pickle.NumpyArrayWrapper") await this.joblibArray(state);
  }

  /**
   * joblib writes a NumpyArrayWrapper's array right after its BUILD (joblib/numpy_pickle.py,
   * write_array / read_array): an object array as a nested protocol-2 pickle; any other array as a
   * padding-length byte, that many 0xff bytes (when the wrapper names numpy_array_alignment_bytes),
   * then shape × itemsize raw bytes.
   */
  private async joblibArray(state: Val): Promise<void> {
    this.stack[this.stack.length - 1] = { t: "obj", cls: "numpy.ndarray" };
    const map = state.t === "dict" ? state.map : null;
    const dtype = map?.get("dtype");
    const shape = map?.get("shape");
    const alignment = map?.get("numpy_array_alignment_bytes");
    if (dtype?.t !== "obj" || dtype.cls !== "numpy.dtype" || !shape || shape.t !== "tuple" || !shape.items) {
      this.fail("a joblib array whose dtype or shape the scanner could not read");
    }
    if (dtype.objects) {
      if (this.depth >= MAX_NESTING) this.fail("joblib object arrays nested too deep");
      const nested = await parsePickle(this.r, this.f, { depth: this.depth + 1 });
      if (nested.end !== "stop")
        this.fail(`joblib object array: ${nested.end === "error" ? nested.message : "missing"}`);
      return;
    }
    const itemsize = dtype.elsize ?? itemSize(dtype.descr);
    if (itemsize === null) this.fail(`a joblib array of dtype '${dtype.descr}'`);
    let count = 1;
    for (const dim of shape.items) {
      if (dim.t !== "int" || dim.v < 0) this.fail("a joblib array with an unreadable shape");
      count *= dim.v;
    }
    if (alignment && alignment.t === "int") {
      const padding = await this.byte();
      if (padding > alignment.v) this.fail("joblib array padding longer than its alignment");
      await this.bytes(padding);
    } else {
      // Without the padding byte, pickle.load (not joblib.load) would read the array's bytes as
      // opcodes; the scanner reads them as joblib does and says it cannot vouch for the other reading.
      this.f.flag(
        "unknown",
        "a joblib array without alignment padding (joblib < 1.2): its raw bytes would be opcodes to pickle.load",
      );
    }
    const total = count * itemsize;
    if (!Number.isSafeInteger(total) || !(await this.r.skip(total))) this.fail("truncated joblib array");
  }

  /** pickle.loads(b'...') and similar: a short bytes argument that is itself a pickle is scanned too. */
  private async nestedBytes(callee: Val, args: Val): Promise<void> {
    if (args.t !== "tuple" || !args.items || this.depth >= MAX_NESTING) return;
    for (const arg of args.items) {
      if (arg.t !== "bytes" || !arg.v || arg.v.length < 2 || arg.v[0] !== 0x80 || arg.v[1]! > 5) continue;
      const inner = ByteReader.of(new Blob([arg.v]).stream());
      const end = await parsePickle(inner, this.f, { depth: this.depth + 1 });
      if (end.end === "error")
        this.f.flag(
          "unknown",
          `a nested pickle passed to ${callee.t === "global" ? callee.name : "a call"} does not parse: ${end.message}`,
        );
    }
  }
}

function setItem(d: Val & { t: "dict" }, k: Val, v: Val): void {
  if (!d.map) return;
  if (k.t === "str" && k.v !== null && (d.map.size < MAX_ITEMS || d.map.has(k.v))) d.map.set(k.v, v);
}

function signedLE(b: Uint8Array): number {
  let n = 0;
  for (let i = b.length - 1; i >= 0; i--) n = n * 256 + b[i]!;
  if (b.length > 0 && b[b.length - 1]! & 0x80) n -= 2 ** (8 * b.length);
  return n;
}

/** The repr escapes a protocol 0 STRING may carry. */
function unescapeRepr(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, e: string) => {
    if (e[0] === "x") return String.fromCharCode(parseInt(e.slice(1), 16));
    return ({ n: "\n", t: "\t", r: "\r", "0": "\0" } as Record<string, string>)[e] ?? e;
  });
}

/** Bytes per element for a numpy type string ('<f8', '|b1', '<U5', 'S3'); null if not a fixed-size type. */
export function itemSize(descr: string | undefined): number | null {
  const m = descr ? /^[<>|=]?([a-zA-Z?])(\d*)$/.exec(descr) : null;
  if (!m) return null;
  const [, kind, digits] = m;
  const n = digits === "" ? null : Number(digits);
  switch (kind) {
    case "?":
      return 1;
    case "b":
    case "B":
      return n ?? 1;
    case "U":
      return n === null ? null : 4 * n;
    case "f":
    case "i":
    case "u":
    case "c":
    case "S":
    case "V":
    case "M":
    case "m":
      return n;
    default:
      return null;
  }
}
