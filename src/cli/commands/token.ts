import { UsageError, type Command } from "../command";

interface TokenJson {
  id: string;
  name: string;
  scopes: string[];
  models?: string[];
  expires_at?: number;
  last_used_at?: number;
  revoked_at?: number;
}

const TOKENS = "/api/2.0/modelgate/tokens";

/** `modelgate token create|list|revoke`: manage API tokens (needs an admin token). */
export const tokenCommand: Command = {
  name: "token",
  summary: "create, list or revoke API tokens (needs an admin token)",
  usage: "create --name <name> --scope <scope> [--model <name>]... [--expires-in <seconds>] | list | revoke <id>",
  details: [
    "Scopes: read < write < promote < admin (or MLflow's READ, EDIT, MANAGE). --model narrows the",
    "token to named models (repeat it for several). The secret is printed once, on stdout; store it",
    "now: only its hash is kept.",
    "",
    "Options:",
    "  --name <name>          what the token is for (shown in the audit trail)",
    "  --scope <scope>        its highest scope",
    "  --model <name>         a model it is limited to (repeatable)",
    "  --expires-in <s>       lifetime in seconds (default: no expiry)",
  ].join("\n"),
  options: {
    name: { type: "string" },
    scope: { type: "string", multiple: true },
    model: { type: "string", multiple: true },
    "expires-in": { type: "string" },
  },
  async run({ positionals, values }, ctx) {
    const client = ctx.client(values);
    const [action, ...rest] = positionals;
    if (action === "create") {
      if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
      const scopes = (values.scope as string[] | undefined) ?? [];
      if (!values.name || scopes.length === 0) throw new UsageError("create needs --name and --scope");
      const expires = values["expires-in"] === undefined ? undefined : Number(values["expires-in"]);
      if (expires !== undefined && !(Number.isInteger(expires) && expires > 0)) throw new UsageError("--expires-in must be a positive number of seconds");
      const created = await client.api<{ token: TokenJson; secret: string }>("POST", TOKENS, {
        name: values.name,
        scopes,
        ...(values.model ? { models: values.model } : {}),
        ...(expires === undefined ? {} : { expires_in: expires }),
      });
      ctx.stderr.write(`created token ${created.token.id} '${created.token.name}' (${created.token.scopes.join(", ")})${created.token.models ? ` for ${created.token.models.join(", ")}` : ""}; the secret below is shown only once:\n`);
      ctx.stdout.write(`${created.secret}\n`);
      return 0;
    }
    if (action === "list") {
      const { tokens } = await client.api<{ tokens: TokenJson[] }>("GET", TOKENS);
      for (const t of tokens) {
        const state = t.revoked_at ? "revoked" : t.expires_at && t.expires_at < Date.now() ? "expired" : "active";
        ctx.stdout.write(`${t.id}  ${state.padEnd(7)}  ${t.name}  [${t.scopes.join(",")}]${t.models ? `  models: ${t.models.join(",")}` : ""}\n`);
      }
      return 0;
    }
    if (action === "revoke") {
      if (rest.length !== 1) throw new UsageError("revoke needs exactly one token id");
      await client.api("DELETE", `${TOKENS}/${encodeURIComponent(rest[0])}`, {});
      ctx.stderr.write(`revoked token ${rest[0]}\n`);
      return 0;
    }
    throw new UsageError(`expected create, list or revoke, got '${action ?? ""}'`);
  },
};
