import type { Command } from "commander";
import type { TokenJson } from "../../client/modelgate-client";
import { action, isoTime, UsageError, wholeNumber, type RunContext } from "../command";

/** `modelgate token create|list|revoke`: API tokens (needs an admin token). */
export function registerToken(program: Command, ctx: RunContext): void {
  const token = program
    .command("token")
    .summary("create, list or revoke API tokens (needs an admin token)")
    .description(
      "Create, list or revoke API tokens. Scopes: read < write < promote < admin (or MLflow's READ, EDIT, MANAGE).",
    );

  token
    .command("create")
    .description(
      'Create a token. The secret is printed once, on stdout (or as "secret" with --json); only its hash is kept.',
    )
    .requiredOption("--name <name>", "what the token is for (shown in the audit trail)")
    .option("--scope <scope>", "its highest scope (required; repeatable)", collect, [])
    .option("--model <name>", "a model it is limited to (repeatable)", collect, [])
    .option("--expires-in <seconds>", "lifetime in seconds (default: no expiry)")
    .action(
      action(ctx, async ({ client }, opts: { name: string; scope: string[]; model: string[]; expiresIn?: string }) => {
        if (opts.scope.length === 0) throw new UsageError("required option '--scope <scope>' not specified");
        const expiresIn = opts.expiresIn === undefined ? undefined : wholeNumber(opts.expiresIn, "--expires-in");
        const created = await client().createToken({
          name: opts.name,
          scopes: opts.scope,
          models: opts.model.length ? opts.model : undefined,
          expiresIn,
        });
        const t = created.token;
        return {
          json: created,
          note: `created token ${t.id} '${t.name}' (${t.scopes.join(", ")})${t.models ? ` for ${t.models.join(", ")}` : ""}; the secret below is shown only once:`,
          text: [created.secret],
        };
      }),
    );

  token
    .command("list")
    .alias("ls")
    .description("List tokens: id, state, name, scopes, models.")
    .action(
      action(ctx, async ({ client }) => {
        const tokens = await client().listTokens();
        return {
          json: { tokens },
          text: tokens.map(
            (t) =>
              `${t.id}  ${state(t).padEnd(7)}  ${t.name}  [${t.scopes.join(",")}]${t.models ? `  models: ${t.models.join(",")}` : ""}${t.expires_at ? `  expires ${isoTime(t.expires_at)}` : ""}`,
          ),
        };
      }),
    );

  token
    .command("revoke")
    .description("Revoke a token at once.")
    .argument("<id>", "the token's id (from token list)")
    .action(
      action(ctx, async ({ client }, _opts, id: string) => {
        if (id.trim() === "") throw new UsageError("the token id is empty");
        await client().revokeToken(id);
        return { json: { id, revoked: true }, note: `revoked token ${id}` };
      }),
    );
}

function state(t: TokenJson): string {
  return t.revoked_at ? "revoked" : t.expires_at && t.expires_at < Date.now() ? "expired" : "active";
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
