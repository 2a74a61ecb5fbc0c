/**
 * What a pickle may import and still be `clean`. Default-deny: a global is safe only if it is listed
 * in ALLOWED_GLOBALS; a global in a DANGEROUS module (or one of the DANGEROUS_GLOBALS) is `unsafe`;
 * anything else is `unknown`. Extending the list: add the entry with the reason it cannot run code
 * when a pickle calls it with arguments of its choosing, and the table test in
 * test/scanning/allow-list.test.ts checks it (docs/supply-chain.md).
 */

import type { Verdict } from "../domain/scans";

const entries = (module: string, names: string[], why: string): [string, string][] =>
  names.map((n) => [`${module}.${n}`, why]);

const SKLEARN_ESTIMATOR =
  "a scikit-learn estimator class: the pickle makes an empty instance and BUILD sets its attributes";
const NUMPY_REBUILD = "numpy's own array and scalar rebuild helpers (ndarray.__reduce__)";
const NUMPY_TYPE = "a numpy scalar type, called with raw bytes to rebuild a scalar";
const TORCH_REBUILD =
  "PyTorch's tensor rebuild helpers and storage types, as torch.save writes them (weights_only's own allow-list)";

/** module.qualname → why calling it with pickle-chosen arguments cannot run code. */
export const ALLOWED_GLOBALS: ReadonlyMap<string, string> = new Map<string, string>([
  // builtins: plain value constructors
  ...entries(
    "builtins",
    [
      "set",
      "frozenset",
      "dict",
      "list",
      "tuple",
      "bytearray",
      "bytes",
      "complex",
      "slice",
      "range",
      "int",
      "float",
      "bool",
      "str",
      "object",
    ],
    "a builtin value type",
  ),
  [
    "copyreg._reconstructor",
    "protocol 0/1 object rebuild: cls.__new__ / base.__init__ on globals the pickle names (each judged itself)",
  ],
  ["copyreg.__newobj__", "cls.__new__(cls, *args) for a class the pickle names (judged itself)"],
  ["copyreg.__newobj_ex__", "cls.__new__(cls, *args, **kwargs) for a class the pickle names (judged itself)"],
  ["_codecs.encode", "protocol 2's spelling of a bytes literal: encodes a string"],
  ...entries(
    "collections",
    ["OrderedDict", "defaultdict", "deque", "Counter"],
    "a collections container (a defaultdict's factory is a global judged itself)",
  ),
  ...entries("datetime", ["datetime", "date", "time", "timedelta", "timezone"], "a datetime value type"),
  // numpy (1.x module paths and numpy 2's numpy._core)
  ...entries("numpy.core.multiarray", ["_reconstruct", "scalar"], NUMPY_REBUILD),
  ...entries("numpy._core.multiarray", ["_reconstruct", "scalar"], NUMPY_REBUILD),
  ...entries("numpy.core.numeric", ["_frombuffer"], NUMPY_REBUILD),
  ...entries("numpy._core.numeric", ["_frombuffer"], NUMPY_REBUILD),
  ["numpy.ndarray", "the array type (the first argument of _reconstruct)"],
  ["numpy.dtype", "a dtype from its type string"],
  ["numpy.ma.core._mareconstruct", "masked array rebuild"],
  ...entries(
    "numpy",
    [
      "bool_",
      "int8",
      "int16",
      "int32",
      "int64",
      "uint8",
      "uint16",
      "uint32",
      "uint64",
      "float16",
      "float32",
      "float64",
      "complex64",
      "complex128",
      "str_",
      "bytes_",
    ],
    NUMPY_TYPE,
  ),
  ...entries(
    "numpy.random._pickle",
    ["__randomstate_ctor", "__generator_ctor", "__bit_generator_ctor"],
    "numpy's random state rebuild: takes a bit generator name from a fixed table",
  ),
  ...entries("numpy.random.mtrand", ["RandomState"], "numpy's legacy random state"),
  ...entries("numpy.random._mt19937", ["MT19937"], "numpy's Mersenne Twister bit generator"),
  ...entries("numpy.random._pcg64", ["PCG64"], "numpy's PCG64 bit generator"),
  // joblib
  [
    "joblib.numpy_pickle.NumpyArrayWrapper",
    "joblib's marker for an array whose raw bytes follow the pickle opcode (read by the scanner too)",
  ],
  // scipy.sparse
  ...[
    "_csr.csr_matrix",
    "_csc.csc_matrix",
    "_coo.coo_matrix",
    "_lil.lil_matrix",
    "_dok.dok_matrix",
    "_bsr.bsr_matrix",
    "_dia.dia_matrix",
    "_arrays.csr_array",
    "_arrays.csc_array",
    "_arrays.coo_array",
    "csr.csr_matrix",
    "csc.csc_matrix",
    "coo.coo_matrix",
  ].map((n): [string, string] => [`scipy.sparse.${n}`, "a scipy sparse matrix class (attributes set by BUILD)"]),
  // scikit-learn
  ...entries("sklearn.linear_model._base", ["LinearRegression"], SKLEARN_ESTIMATOR),
  ...entries("sklearn.linear_model._logistic", ["LogisticRegression"], SKLEARN_ESTIMATOR),
  ...entries("sklearn.linear_model._ridge", ["Ridge", "RidgeClassifier"], SKLEARN_ESTIMATOR),
  ...entries("sklearn.linear_model._coordinate_descent", ["Lasso", "ElasticNet"], SKLEARN_ESTIMATOR),
  ...entries("sklearn.linear_model._stochastic_gradient", ["SGDClassifier", "SGDRegressor"], SKLEARN_ESTIMATOR),
  ...entries(
    "sklearn.tree._classes",
    ["DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier", "ExtraTreeRegressor"],
    SKLEARN_ESTIMATOR,
  ),
  ["sklearn.tree._tree.Tree", "a fitted tree's node arrays (Cython type; __setstate__ copies arrays)"],
  ...entries(
    "sklearn.ensemble._forest",
    ["RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor"],
    SKLEARN_ESTIMATOR,
  ),
  ...entries("sklearn.ensemble._gb", ["GradientBoostingClassifier", "GradientBoostingRegressor"], SKLEARN_ESTIMATOR),
  ...entries(
    "sklearn.ensemble._gb_losses",
    [
      "BinomialDeviance",
      "MultinomialDeviance",
      "LeastSquaresError",
      "LeastAbsoluteError",
      "HuberLossFunction",
      "QuantileLossFunction",
      "ExponentialLoss",
    ],
    "a gradient boosting loss object (sklearn < 1.4)",
  ),
  ...entries("sklearn.dummy", ["DummyClassifier", "DummyRegressor"], SKLEARN_ESTIMATOR),
  ...entries("sklearn.svm._classes", ["SVC", "SVR", "LinearSVC", "LinearSVR"], SKLEARN_ESTIMATOR),
  ...entries("sklearn.neighbors._classification", ["KNeighborsClassifier"], SKLEARN_ESTIMATOR),
  ...entries("sklearn.neighbors._regression", ["KNeighborsRegressor"], SKLEARN_ESTIMATOR),
  ...entries("sklearn.naive_bayes", ["GaussianNB", "MultinomialNB", "BernoulliNB"], SKLEARN_ESTIMATOR),
  ...entries("sklearn.cluster._kmeans", ["KMeans"], SKLEARN_ESTIMATOR),
  ...entries("sklearn.decomposition._pca", ["PCA"], SKLEARN_ESTIMATOR),
  ...entries(
    "sklearn.preprocessing._data",
    ["StandardScaler", "MinMaxScaler", "RobustScaler", "MaxAbsScaler", "Normalizer"],
    SKLEARN_ESTIMATOR,
  ),
  ...entries("sklearn.preprocessing._encoders", ["OneHotEncoder", "OrdinalEncoder"], SKLEARN_ESTIMATOR),
  ...entries("sklearn.preprocessing._label", ["LabelEncoder", "LabelBinarizer"], SKLEARN_ESTIMATOR),
  ...entries("sklearn.impute._base", ["SimpleImputer"], SKLEARN_ESTIMATOR),
  ...entries("sklearn.pipeline", ["Pipeline", "FeatureUnion"], SKLEARN_ESTIMATOR),
  ...entries("sklearn.compose._column_transformer", ["ColumnTransformer"], SKLEARN_ESTIMATOR),
  // PyTorch tensor rebuild (what torch.load(weights_only=True) accepts for a state dict)
  ...entries(
    "torch._utils",
    [
      "_rebuild_tensor",
      "_rebuild_tensor_v2",
      "_rebuild_parameter",
      "_rebuild_parameter_with_state",
      "_rebuild_sparse_tensor",
      "_rebuild_qtensor",
    ],
    TORCH_REBUILD,
  ),
  ...entries(
    "torch",
    [
      "FloatStorage",
      "DoubleStorage",
      "HalfStorage",
      "BFloat16Storage",
      "LongStorage",
      "IntStorage",
      "ShortStorage",
      "CharStorage",
      "ByteStorage",
      "BoolStorage",
      "Size",
      "float32",
      "float64",
      "float16",
      "bfloat16",
      "int64",
      "int32",
      "int8",
      "uint8",
      "bool",
    ],
    TORCH_REBUILD,
  ),
  ["torch.storage.UntypedStorage", TORCH_REBUILD],
  ["torch.nn.parameter.Parameter", TORCH_REBUILD],
]);

/** Modules any global of which is `unsafe`: they run commands, load code, or reach anything by name. */
export const DANGEROUS_MODULES: readonly string[] = [
  "os",
  "posix",
  "nt",
  "subprocess",
  "_posixsubprocess",
  "sys",
  "socket",
  "shutil",
  "importlib",
  "inspect",
  "runpy",
  "pickle",
  "_pickle",
  "cPickle",
  "marshal",
  "dill",
  "cloudpickle",
  "joblib.load",
  "code",
  "codeop",
  "ctypes",
  "_ctypes",
  "pty",
  "commands",
  "popen2",
  "platform",
  "webbrowser",
  "urllib",
  "urllib2",
  "http",
  "httplib",
  "requests",
  "ftplib",
  "smtplib",
  "telnetlib",
  "multiprocessing",
  "asyncio",
  "_thread",
  "thread",
  "threading",
  "signal",
  "pdb",
  "bdb",
  "timeit",
  "trace",
  "profile",
  "cProfile",
  "types",
  "gc",
  "io",
  "_io",
  "zipimport",
  "pkgutil",
  "pydoc",
  "venv",
  "ensurepip",
  "distutils",
  "setuptools",
  "pip",
  "numpy.testing",
  "numpy.f2py",
  "numpy.distutils",
  "torch.hub",
  "torch.serialization",
  "torch.jit",
  "pandas.io.pickle",
];

/** Single globals that are `unsafe` although their module is not (or is allow-listed in part). */
export const DANGEROUS_GLOBALS: ReadonlySet<string> = new Set([
  ...[
    "eval",
    "exec",
    "compile",
    "__import__",
    "getattr",
    "setattr",
    "delattr",
    "open",
    "globals",
    "locals",
    "vars",
    "input",
    "breakpoint",
    "exit",
    "quit",
    "apply",
    "execfile",
    "file",
    "reload",
    "help",
    "memoryview",
  ].map((n) => `builtins.${n}`),
  "operator.attrgetter",
  "operator.methodcaller",
  "operator.call",
  "functools.reduce",
  "functools.partial",
  "numpy.load",
  "numpy.lib.npyio.load",
  "numpy.fromfile",
  "numpy.memmap",
  "torch.load",
  "joblib.load",
  "joblib.numpy_pickle.load",
  "pandas.read_pickle",
  "copyreg.add_extension",
]);

/**
 * Callables that turn a string into a callable or a module: a string argument to one of them names
 * what the pickle reaches indirectly (importlib.import_module('os') → getattr(…, 'system')).
 */
export const RESOLVERS: ReadonlySet<string> = new Set([
  "builtins.getattr",
  "builtins.__import__",
  "importlib.import_module",
  "importlib.__import__",
  "inspect.getattr_static",
  "operator.attrgetter",
  "operator.methodcaller",
  "pkgutil.resolve_name",
  "pydoc.locate",
  "sys.modules.get",
]);

/** Python 2 module names as Python 3's unpickler maps them (_compat_pickle, fix_imports). */
const PY2_MODULES: Record<string, string> = {
  __builtin__: "builtins",
  copy_reg: "copyreg",
  exceptions: "builtins",
  cPickle: "pickle",
  _abcoll: "collections.abc",
};

/** Attribute names that walk from any object to code or to every module. */
const ESCAPE_HATCHES =
  /(^|\.)(__globals__|__builtins__|__subclasses__|__import__|__code__|__loader__|__spec__|__dict__|__getattribute__|__reduce__|__reduce_ex__|__class__|__bases__|__mro__|__base__|system|popen|eval|exec)($|\.)/;

export function canonicalGlobal(module: string, name: string): string {
  return `${PY2_MODULES[module] ?? module}.${name}`;
}

function inModule(fullName: string, module: string): boolean {
  return fullName === module || fullName.startsWith(`${module}.`);
}

/** The verdict for importing `module.name` (already canonical). */
export function classifyGlobal(fullName: string): Verdict {
  if (ALLOWED_GLOBALS.has(fullName)) return "clean";
  if (DANGEROUS_GLOBALS.has(fullName) || RESOLVERS.has(fullName)) return "unsafe";
  if (DANGEROUS_MODULES.some((m) => inModule(fullName, m))) return "unsafe";
  if (ESCAPE_HATCHES.test(fullName)) return "unsafe";
  return "unknown";
}

export const worst = (a: Verdict, b: Verdict): Verdict =>
  a === "unsafe" || b === "unsafe" ? "unsafe" : a === "unknown" || b === "unknown" ? "unknown" : "clean";
