// `modelgate <command>`: a command table and nothing else; each command lives in commands/<name>.ts.
import { parseArgs } from "node:util";
import { clientFor, GLOBAL_HELP, GLOBAL_OPTIONS, UsageError, type CliContext, type Command } from "./command";
import { pullCommand } from "./commands/pull";
import { tokenCommand } from "./commands/token";

/** Add a command here (and its file under commands/); help and dispatch follow from this list. */
export const COMMANDS: readonly Command[] = [pullCommand, tokenCommand];

const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

export function defaultContext(): CliContext {
  return { env: process.env, stdout: process.stdout, stderr: process.stderr, client: (values) => clientFor(values, process.env) };
}

/** Runs one command line (without `node` and the script) and resolves to the exit code. */
export async function main(argv: string[], ctx: CliContext = defaultContext()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    const topic = name === "help" && rest[0] ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    ctx.stdout.write(topic ? commandHelp(topic) : overview());
    return name === undefined ? EXIT_USAGE : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    ctx.stderr.write(`modelgate: unknown command '${name}' (commands: ${COMMANDS.map((c) => c.name).join(", ")}; see 'modelgate --help')\n`);
    return EXIT_USAGE;
  }
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: { ...GLOBAL_OPTIONS, ...command.options }, allowPositionals: true, strict: true });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    if (parsed.values.help) {
      ctx.stdout.write(commandHelp(command));
      return 0;
    }
    return await command.run({ positionals: parsed.positionals, values: parsed.values }, ctx);
  } catch (error) {
    if (error instanceof UsageError) {
      ctx.stderr.write(`modelgate ${command.name}: ${error.message} (usage: modelgate ${command.name} ${command.usage}; see --help)\n`);
      return EXIT_USAGE;
    }
    ctx.stderr.write(`modelgate ${command.name}: ${oneLine(error)}\n`);
    return EXIT_FAILURE;
  }
}

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "usage: modelgate <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Options for every command:",
    ...GLOBAL_HELP,
    "",
    "Run 'modelgate <command> --help' for a command's arguments.",
    "",
  ].join("\n");
}

function commandHelp(c: Command): string {
  return [`usage: modelgate ${c.name} ${c.usage} [options]`, "", `${c.summary}.`, "", c.details, "", "Options for every command:", ...GLOBAL_HELP, ""].join("\n");
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, " ");
}
