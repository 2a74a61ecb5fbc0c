// `modelgate <command>`: builds the commander program from one register function per command
// group (commands/<group>.ts) and maps every outcome to a documented exit code (see EXIT).
import { Command, CommanderError, Option } from "commander";
import { EXIT, errorJson, exitCodeOf, oneLine, UsageError, type CliContext, type RunContext } from "./command";
import { registerAlias } from "./commands/alias";
import { registerHistory } from "./commands/history";
import { registerModels } from "./commands/models";
import { registerPolicy } from "./commands/policy";
import { registerPromote } from "./commands/promote";
import { registerPull } from "./commands/pull";
import { registerPush } from "./commands/push";
import { registerRollback } from "./commands/rollback";
import { registerToken } from "./commands/token";
import { registerVerify } from "./commands/verify";
import { registerVersions } from "./commands/versions";
import { registerWebhooks } from "./commands/webhooks";

/** Add a command group here (and its file under commands/); help and dispatch follow. */
const GROUPS = [
  registerModels,
  registerVersions,
  registerPush,
  registerPromote,
  registerAlias,
  registerRollback,
  registerPull,
  registerVerify,
  registerHistory,
  registerPolicy,
  registerWebhooks,
  registerToken,
];

const EXIT_CODES_HELP = `
Environment:
  MODELGATE_URL     registry base URL (else MLFLOW_TRACKING_URI, else http://127.0.0.1:8787)
  MODELGATE_TOKEN   bearer token (else MLFLOW_TRACKING_TOKEN); prefer it to --token, argv is visible to other users
  MODELGATE_PUBLIC_KEY  the registry's model-signing public key (PEM, JWK or JWKS; a file or inline)
                    that pull and verify check model.sig with (else fetched from the registry, not pinned)

Exit codes:
  0  success
  1  the operation failed: the server refused it (its MLflow error message is printed on stderr),
     could not be reached, or a registration failed
  2  usage error: bad arguments or options; nothing was sent
  3  verification failed: downloaded bytes do not match the manifest's sha256 or size, or a
     signature (model.sig) does not verify or does not match the files

With --json every command prints one JSON document on stdout, on failure too:
  {"error_code": "...", "message": "...", "exit_code": 1}
`;

export function defaultContext(): CliContext {
  return { env: process.env, stdout: process.stdout, stderr: process.stderr };
}

export function buildProgram(ctx: RunContext): Command {
  const program = new Command("modelgate")
    .description("Modelgate model registry CLI: push, promote, roll back and pull model versions")
    .addOption(
      new Option(
        "--url <url>",
        "registry base URL (default: $MODELGATE_URL, else $MLFLOW_TRACKING_URI, else http://127.0.0.1:8787)",
      ),
    )
    .addOption(new Option("--token <token>", "bearer token (default: $MODELGATE_TOKEN, else $MLFLOW_TRACKING_TOKEN)"))
    .option("--json", "print one JSON document on stdout (for scripts)")
    .addHelpText("after", EXIT_CODES_HELP)
    .configureHelp({ showGlobalOptions: true, subcommandTerm: (c) => c.name() })
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
      // main() prints commander's errors itself, in the same shape as every other failure.
      outputError: () => undefined,
    })
    .exitOverride();
  for (const register of GROUPS) register(program, ctx);
  // Settings are copied to subcommands when they are created; the error needs to know its command.
  const tag = (command: Command) => {
    command.exitOverride((error) => {
      throw Object.assign(error, { command });
    });
    command.commands.forEach(tag);
  };
  tag(program);
  return program;
}

/** Runs one command line (without `node` and the script) and resolves to the exit code. */
export async function main(argv: string[], context: CliContext = defaultContext()): Promise<number> {
  const ctx: RunContext = { ...context, exitCode: EXIT.ok };
  const program = buildProgram(ctx);
  let current: Command = program;
  program.hook("preAction", (_program, actionCommand) => {
    current = actionCommand;
  });
  try {
    await program.parseAsync(argv, { from: "user" });
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      const command = (error as CommanderError & { command?: Command }).command ?? program;
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return EXIT.ok;
      // A group without its subcommand (`modelgate webhooks`): commander has printed the help on stderr.
      if (error.code === "commander.help") return EXIT.usage;
      return fail(ctx, command, new UsageError(error.message.replace(/^error: /, "")), argv);
    }
    return fail(ctx, current, error, argv);
  }
}

function fail(ctx: RunContext, command: Command, error: unknown, argv: string[]): number {
  const path = commandPath(command);
  const code = exitCodeOf(error);
  let line = `${path}: ${oneLine(error)}`;
  if (code === EXIT.usage) line += ` (usage: ${path} ${command.usage()}; see --help)`;
  ctx.stderr.write(`${line}\n`);
  if (argv.includes("--json")) ctx.stdout.write(`${JSON.stringify(errorJson(error), null, 2)}\n`);
  return code;
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}
