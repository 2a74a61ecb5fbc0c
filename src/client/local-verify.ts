import { lstat, readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { PublicKeyInfo } from "../signing/keys";
import { compareWithStatement, ignoredBy, isIgnored, SIGNATURE_FILE, type Statement } from "../signing/model-signing";
import { ModelgateError } from "./errors";
import { hashFile } from "./file-hash";
import { checkSubject, SignatureVerificationError, verifyWith } from "./signatures";

export interface DirectoryVerification {
  statement: Statement;
  key: PublicKeyInfo;
  /** Files checked (hashed and matched). */
  files: number;
  bytes: number;
}

/** The files below `root` not covered by `ignores`, as POSIX paths relative to it. Symlinks are refused. */
export async function listFiles(root: string, ignores: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (relative: string) => {
    const entries = await readdir(path.join(root, relative), { withFileTypes: true });
    for (const entry of entries) {
      const rel = relative ? `${relative}/${entry.name}` : entry.name;
      if (isIgnored(rel, ignores)) continue;
      if (entry.isSymbolicLink())
        throw new SignatureVerificationError([`'${rel}' is a symbolic link (model signing allows none)`], root);
      if (entry.isDirectory()) await walk(rel);
      else if (entry.isFile()) out.push(rel);
    }
  };
  await walk("");
  return out;
}

/**
 * Reads DIR's model.sig (or `signaturePath`), verifies it with `keys`, checks that it names
 * `expected` (the model, and the version when given), then every file's sha256.
 */
export async function verifyDirectory(
  dir: string,
  keys: PublicKeyInfo[],
  signaturePath = path.join(dir, SIGNATURE_FILE),
  expected?: { model: string; version?: number },
): Promise<DirectoryVerification> {
  const root = path.resolve(dir);
  const found = await lstat(root).catch(() => null);
  if (!found?.isDirectory()) throw new ModelgateError(`'${dir}' is not a directory`);
  let bundle: string;
  try {
    bundle = await readFile(signaturePath, "utf8");
  } catch {
    throw new SignatureVerificationError([`no signature: '${signaturePath}' cannot be read`], dir);
  }
  const { statement, key } = await verifyWith(bundle, keys, dir);
  if (expected) checkSubject(statement, expected, dir);
  const ignores = ignoredBy(statement);
  // The signature file itself is never a resource, wherever it was read from.
  const relativeSig = path.relative(root, path.resolve(signaturePath)).split(path.sep).join("/");
  const files = await listFiles(root, relativeSig.startsWith("..") ? ignores : [...ignores, relativeSig]);
  const actual = new Map<string, string>();
  let bytes = 0;
  for (const rel of files) {
    const file = path.join(root, ...rel.split("/"));
    const { size } = await stat(file);
    actual.set(rel, await hashFile(file, size));
    bytes += size;
  }
  const problems = compareWithStatement(statement, actual);
  if (problems.length > 0) throw new SignatureVerificationError(problems, dir);
  return { statement, key, files: files.length, bytes };
}
