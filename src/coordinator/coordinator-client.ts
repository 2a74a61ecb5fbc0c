import { modelNotFound, RegistryError } from "../errors";
import type { ModelVersion, RegisteredModel } from "../domain/model";
import { canonicalRef, type ModelRef } from "../domain/model-ref";
import type { Stage } from "../domain/stages";
import type { RollbackPlan } from "../domain/rollback";
import { share } from "../domain/shared-value";
import type { ModelRepository } from "../repositories/model-repository";
import type { Changed, Reply, Revised } from "./contract";
import type { ModelCoordinator } from "./model-coordinator";

type Stub = DurableObjectStub<ModelCoordinator>;

/** One call on a model's coordinator, given its stub and the model's id. */
export type CoordinatorCall<T> = (stub: Stub, modelId: string) => Promise<Reply<T>>;

/**
 * Name → id lookups, kept per isolate. An entry can go stale when a model is renamed or deleted
 * elsewhere; the coordinator detects that (it knows its model's current name) and the client then
 * looks the name up again, so a stale entry costs one retry, never a wrong answer.
 */
const MAX_CACHED_NAMES = 10_000;
const idsByName = new Map<string, { id: string; at: number }>();

function remember(name: string, id: string) {
  if (idsByName.size >= MAX_CACHED_NAMES) idsByName.delete(idsByName.keys().next().value!);
  idsByName.set(name, { id, at: Date.now() });
}

const objectIds = new Map<string, DurableObjectId>();

/**
 * Point-read answers this isolate holds, by model id and read, with the coordinator revision they
 * came from. Shared (domain/shared-value.ts): every request that the coordinator tells "current"
 * gets the one frozen object.
 */
const MAX_HELD_ANSWERS = 10_000;
const heldAnswers = new Map<string, { revision: string; value: unknown }>();

function hold(slot: string, revision: string, value: unknown) {
  if (heldAnswers.size >= MAX_HELD_ANSWERS) heldAnswers.delete(heldAnswers.keys().next().value!);
  heldAnswers.set(slot, { revision, value: share(value) });
}

/** A mutation's answer and what it changed (null: nothing cached can be stale), for the caller to act on. */
export interface Mutated<T> {
  value: T;
  changed: Changed | null;
}

/** The Worker-side handle on the per-model coordinators. */
export class CoordinatorClient {
  constructor(
    private readonly namespace: DurableObjectNamespace<ModelCoordinator>,
    private readonly repo: ModelRepository,
  ) {}

  /**
   * Object ids are kept per isolate (deriving one hashes the name); stubs are not, because a stub
   * belongs to the request that made it.
   */
  stubFor(modelId: string): Stub {
    let id = objectIds.get(modelId);
    if (!id) {
      if (objectIds.size >= MAX_CACHED_NAMES) objectIds.delete(objectIds.keys().next().value!);
      objectIds.set(modelId, (id = this.namespace.idFromName(modelId)));
    }
    return this.namespace.get(id);
  }

  /**
   * Runs a mutation in the coordinator of the model named `name`. Answers what it changed too: the
   * service that asked decides what to do about it (drop cached resolutions and files).
   */
  mutate<T>(name: string, invoke: CoordinatorCall<T>): Promise<Mutated<T>> {
    return this.call(name, invoke);
  }

  /** Asks the coordinator of the model named `name` something that changes nothing. */
  async ask<T>(name: string, invoke: CoordinatorCall<T>): Promise<T> {
    return (await this.call(name, invoke)).value;
  }

  /** Calls the coordinator of the model named `name`, re-resolving the name if the cached id was stale. */
  private async call<T>(name: string, invoke: CoordinatorCall<T>): Promise<Mutated<T>> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const modelId = attempt === 0 ? await this.resolve(name) : await this.lookup(name);
      if (!modelId) throw modelNotFound(name);
      const reply = (await invoke(this.stubFor(modelId), modelId)) as Reply<T>;
      if (reply.ok) {
        const changed = reply.changed;
        return {
          value: reply.value,
          changed: changed && (changed.refs.length > 0 || changed.files.length > 0) ? changed : null,
        };
      }
      if ("stale" in reply) {
        idsByName.delete(name);
        continue;
      }
      throw new RegistryError(reply.code, reply.message);
    }
    throw modelNotFound(name);
  }

  // --- point reads, answered by the coordinator from memory ------------------------------------

  model(name: string): Promise<RegisteredModel> {
    return this.read(name, "model", (c, id, known) => c.getModel(id, name, known));
  }

  version(name: string, version: number): Promise<ModelVersion | null> {
    return this.read(name, `version:${version}`, (c, id, known) => c.getVersion(id, name, version, known));
  }

  latestVersions(name: string, stages: Stage[]): Promise<ModelVersion[]> {
    return this.read(name, `latest:${stages.join(",")}`, (c, id, known) =>
      c.getLatestVersions(id, name, stages, known),
    );
  }

  versionByAlias(name: string, alias: string): Promise<ModelVersion | null> {
    return this.read(name, `alias:${alias}`, (c, id, known) => c.getVersionByAlias(id, name, alias, known));
  }

  resolveRef(name: string, ref: ModelRef): Promise<ModelVersion | null> {
    return this.read(name, `ref:${canonicalRef(ref)}`, (c, id, known) => c.resolve(id, name, ref, known));
  }

  /** What a rollback would do now, planned by the coordinator as it plans the rollback itself. */
  planRollback(name: string, target?: number): Promise<RollbackPlan> {
    return this.ask(name, (c, id) => c.planRollback(id, name, target));
  }

  /**
   * A point read (`read` names it among the model's reads). The coordinator is asked every time, so
   * the answer is as fresh as its state; when it says the answer this isolate holds is still current,
   * that answer is returned instead of the data crossing the RPC boundary again (and, being the same
   * frozen object, it is rendered once: src/http/rendered-json.ts).
   */
  private read<T>(
    name: string,
    read: string,
    invoke: (stub: Stub, modelId: string, known: string | undefined) => Promise<Reply<Revised<T>>>,
  ): Promise<T> {
    return this.ask(name, async (stub, modelId): Promise<Reply<T>> => {
      const slot = `${modelId}/${read}`;
      const held = heldAnswers.get(slot);
      const reply = await invoke(stub, modelId, held?.revision);
      if (!reply.ok) return reply;
      const answer = reply.value;
      if ("current" in answer) return { ok: true, value: held!.value as T };
      if (answer.revision !== null) hold(slot, answer.revision, answer.value);
      return { ok: true, value: answer.value };
    });
  }

  renamed(oldName: string, newName: string, modelId: string) {
    idsByName.delete(oldName);
    remember(newName, modelId);
  }

  created(name: string, modelId: string) {
    remember(name, modelId);
  }

  forget(name: string) {
    idsByName.delete(name);
  }

  /**
   * The id of the model named `name`, from this isolate's memory when the entry is at most
   * `maxAgeMs` old. For paths that never reach the coordinator (cached downloads), so cannot learn
   * of a stale entry from it: the age bounds how long a rename or delete elsewhere goes unseen.
   */
  async idOf(name: string, maxAgeMs: number): Promise<string | null> {
    const entry = idsByName.get(name);
    return entry && Date.now() - entry.at <= maxAgeMs ? entry.id : this.lookup(name);
  }

  private async resolve(name: string): Promise<string | null> {
    return idsByName.get(name)?.id ?? (await this.lookup(name));
  }

  private async lookup(name: string): Promise<string | null> {
    const id = await this.repo.findIdByName(name);
    if (id) remember(name, id);
    else idsByName.delete(name);
    return id;
  }
}
