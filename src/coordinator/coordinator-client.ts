import { modelNotFound, RegistryError } from "../errors";
import type { ModelRepository } from "../repositories/model-repository";
import type { Changed, ModelCoordinator, Reply } from "./model-coordinator";

type Stub = DurableObjectStub<ModelCoordinator>;

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

/** Told which refs of a model a mutation changed (the edge cache drops them). */
export type ChangeListener = (changed: Changed) => Promise<void>;

/** The Worker-side handle on the per-model coordinators. */
export class CoordinatorClient {
  constructor(
    private readonly namespace: DurableObjectNamespace<ModelCoordinator>,
    private readonly repo: ModelRepository,
    private readonly onChange: ChangeListener = async () => undefined,
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

  /** Calls the coordinator of the model named `name`, re-resolving the name if the cached id was stale. */
  async call<T>(name: string, invoke: (stub: Stub, modelId: string) => Promise<Reply<T>>): Promise<T> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const modelId = attempt === 0 ? await this.resolve(name) : await this.lookup(name);
      if (!modelId) throw modelNotFound(name);
      const reply = (await invoke(this.stubFor(modelId), modelId)) as Reply<T>;
      if (reply.ok) {
        if (reply.changed && (reply.changed.refs.length > 0 || reply.changed.files.length > 0)) await this.onChange(reply.changed);
        return reply.value;
      }
      if ("stale" in reply) {
        idsByName.delete(name);
        continue;
      }
      throw new RegistryError(reply.code, reply.message);
    }
    throw modelNotFound(name);
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
