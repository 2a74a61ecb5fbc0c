// Review L1: a deployment without MODELGATE_MODEL_SIGNING_KEYS (one upgraded without the new
// secret) still serves archive.tar, without model.sig; model.sig itself is refused with a clear
// 503-class error, and the health check reports the missing key as degraded.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { RegistryError } from "../../src/errors";
import { MaintenanceService } from "../../src/maintenance/maintenance-service";
import type { Retention } from "../../src/maintenance/retention";
import { openDatabase } from "../../src/repositories/database";
import { EventRepository } from "../../src/repositories/event-repository";
import { createServices } from "../../src/services";
import { ModelSigner, parseModelSigningKeys, SigningNotConfiguredError } from "../../src/signing/model-signer";
import { SignatureService } from "../../src/signing/signature-service";
import { R2SignatureStore } from "../../src/signing/signature-store";
import { publish } from "./publish";

describe("a deployment without MODELGATE_MODEL_SIGNING_KEYS", () => {
  const unsigned = () => createServices({ ...env, MODELGATE_MODEL_SIGNING_KEYS: undefined });

  it("still builds archive.tar, without model.sig, saying the signature is unavailable", async () => {
    const name = await publish({ MLmodel: "flavors: {}\n", "model.pkl": "w", "model.sig": "the version's own" });
    const archive = await unsigned().delivery.archive(name, "1");
    expect(archive.signature).toBe("unavailable");
    expect(archive.entries.map((e) => e.path)).toEqual(["MLmodel", "model.pkl"]);
    const bytes = new Uint8Array(await new Response(await archive.entries[1]!.open()).arrayBuffer());
    expect(new TextDecoder().decode(bytes)).toBe("w");
    // With the key the same archive carries model.sig first.
    const signed = await createServices(env).delivery.archive(name, "1");
    expect(signed.signature).toBe("included");
    expect(signed.entries.map((e) => e.path)).toEqual(["model.sig", "MLmodel", "model.pkl"]);
  });

  it("refuses model.sig itself with a 503-class error that says what is missing and what still works", async () => {
    const name = await publish({ "model.pkl": "x" });
    const error = await unsigned()
      .delivery.signed(name, "1")
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(SigningNotConfiguredError);
    expect((error as RegistryError).code).toBe("TEMPORARILY_UNAVAILABLE");
    expect((error as Error).message).toBe(
      "Modelgate is not configured for model signing: the MODELGATE_MODEL_SIGNING_KEYS secret is missing. The version's files and archive.tar are served without model.sig.",
    );
  });

  it("is reported degraded by the health check, naming the missing key; with the key it is not", async () => {
    const events = new EventRepository(openDatabase(env.DB));
    // 1930: before every suite's events, so the outbox part of the check is ok.
    const at = (keys: string | undefined) =>
      new MaintenanceService(
        events,
        null as unknown as Retention,
        env.EVENTS,
        [],
        undefined,
        () => Date.UTC(1930, 0, 1),
        new SignatureService(
          async () => ModelSigner.load(parseModelSigningKeys(keys)),
          new R2SignatureStore(env.ARTIFACTS),
        ),
      );
    expect(await at(undefined).checkHealth()).toEqual({
      status: "degraded",
      undeliveredEvents: null,
      checkFailed: null,
      modelSigning: "model.sig cannot be issued: the MODELGATE_MODEL_SIGNING_KEYS secret is missing",
    });
    expect(await at(env.MODELGATE_MODEL_SIGNING_KEYS).checkHealth()).toEqual({ status: "ok" });
  });
});
