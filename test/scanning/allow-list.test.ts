import { describe, expect, it } from "vitest";
import { ALLOWED_GLOBALS, classifyGlobal, DANGEROUS_GLOBALS, DANGEROUS_MODULES } from "../../src/scanning/allow-list";
import { scanStream } from "../../src/scanning/file-scanner";

const utf8 = new TextEncoder();
const shortUnicode = (s: string) => [0x8c, utf8.encode(s).length, ...utf8.encode(s)];

/** A protocol 4 pickle that imports module.name with STACK_GLOBAL and calls it with no arguments. */
function importing(global: string): ReadableStream<Uint8Array> {
  const dot = global.lastIndexOf(".");
  const bytes = [
    0x80,
    0x04,
    ...shortUnicode(global.slice(0, dot)),
    ...shortUnicode(global.slice(dot + 1)),
    0x93,
    0x29,
    0x52,
    0x2e,
  ];
  return new Blob([new Uint8Array(bytes)]).stream();
}

describe("the allow-list", () => {
  it.each([...ALLOWED_GLOBALS])("%s is clean (%s)", async (global, why) => {
    expect(why.length).toBeGreaterThan(10);
    expect(DANGEROUS_GLOBALS.has(global)).toBe(false);
    expect(DANGEROUS_MODULES.some((m) => global === m || global.startsWith(`${m}.`))).toBe(false);
    const scan = await scanStream(importing(global));
    expect(scan).toMatchObject({
      verdict: "clean",
      imports: [{ name: global, verdict: "clean" }],
      calls: [`REDUCE ${global}`],
    });
  });
});

describe("outside the allow-list", () => {
  it.each([
    "os.system",
    "posix.system",
    "nt.system",
    "subprocess.Popen",
    "subprocess.check_output",
    "builtins.eval",
    "builtins.exec",
    "builtins.getattr",
    "builtins.__import__",
    "builtins.open",
    "importlib.import_module",
    "inspect.getattr_static",
    "runpy._run_code",
    "socket.create_connection",
    "shutil.rmtree",
    "pickle.loads",
    "_pickle.loads",
    "marshal.loads",
    "sys.modules",
    "operator.attrgetter",
    "operator.methodcaller",
    "functools.partial",
    "types.CodeType",
    "ctypes.CDLL",
    "numpy.load",
    "torch.load",
    "joblib.load",
    "cloudpickle.cloudpickle._make_function",
    "numpy.testing._private.utils.runstring",
    "sklearn.pipeline.Pipeline.__init__.__globals__",
    "builtins.object.__subclasses__",
  ])("%s is unsafe", async (global) => {
    expect(classifyGlobal(global)).toBe("unsafe");
    expect((await scanStream(importing(global))).verdict).toBe("unsafe");
  });

  it.each([
    "mypackage.model.Thing",
    "sklearn.utils._testing.TempMemmap",
    "torch.nn.modules.linear.Linear",
    "builtins.type",
    "copyreg.dispatch_table",
  ])("%s is unknown", async (global) => {
    expect(classifyGlobal(global)).toBe("unknown");
    expect((await scanStream(importing(global))).verdict).toBe("unknown");
  });

  it("maps Python 2 module names as Python 3's unpickler does", async () => {
    const bytes = utf8.encode("c__builtin__\neval\n(S'1'\ntR.");
    expect(await scanStream(new Blob([bytes]).stream())).toMatchObject({
      verdict: "unsafe",
      imports: [{ name: "builtins.eval" }],
    });
  });
});
