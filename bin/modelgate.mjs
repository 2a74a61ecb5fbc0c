#!/usr/bin/env node
// The `modelgate` CLI: runs src/cli/modelgate.ts through tsx's loader, in this process.
import { fileURLToPath } from "node:url";
import { tsImport } from "tsx/esm/api";

// `modelgate ... | head` closes the pipe early: stop quietly, as other Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

// The repository's tsconfig, not whatever tsconfig.json is in the caller's working directory.
const tsconfig = fileURLToPath(new URL("../tsconfig.json", import.meta.url));
const { main } = await tsImport("../src/cli/modelgate.ts", { parentURL: import.meta.url, tsconfig });
process.exitCode = await main(process.argv.slice(2));
