import { DurableObject } from "cloudflare:workers";
import { RegistryError } from "../errors";
import type { FileRef, ModelRecord, ModelVersion, RegisteredModel, Tag } from "../domain/model";
import type { ModelRef } from "../domain/model-ref";
import type { Caller, PolicyRecord } from "../domain/promotion-policy";
import { ok, type Failure, type Result } from "../domain/result";
import type { RollbackPlan } from "../domain/rollback";
import type { Stage } from "../domain/stages";
import type { OutboxAlarm } from "../events/outbox-alarm";
import type { ModelRepository } from "../repositories/model-repository";
import type { Actor, NewVersion, Reply, Revised, RollbackRequest, Stale, Transition } from "./contract";
import type { ModelWriter } from "./model-writer";
import { ModelState } from "./model-state";
import type { PolicyGate } from "./policy-gate";
import { SerialQueue } from "./serial-queue";

/** What one coordinator works with, built for it by the composition root (src/services.ts `coordinatorParts`). */
export interface CoordinatorParts {
  /** Loads the model's snapshot. */
  models: ModelRepository;
  /** The model's write rules: check, one D1 batch, then the in-memory state. */
  writer: ModelWriter;
  /** Relays the model's events to the EVENTS queue from this object's alarm (docs/events.md). */
  outbox: OutboxAlarm;
  /** The model's promotion policy, kept in this object's own storage (docs/policies.md). */
  policies: PolicyGate;
}

/** Refs whose answers depend on more than one version: any change to versions can move them. */
const MODEL_WIDE_REFS = ["None", "Staging", "Production", "Archived", "latest"];

const STALE: Stale = { ok: false, stale: true };

/**
 * One per registered model, keyed by the model's immutable id. Every mutation of the model runs
 * here, one at a time (SerialQueue), and point reads are answered from the in-memory copy that
 * those mutations keep current. Typed RPC only: no router, no parsing.
 */
export class ModelCoordinator extends DurableObject<Env> {
  private readonly repo: ModelRepository;
  private readonly writer: ModelWriter;
  private readonly queue = new SerialQueue();
  private readonly outbox: OutboxAlarm;
  private readonly policies: PolicyGate;
  /** undefined: not loaded yet; null: no such model (never created, or deleted). */
  private state: ModelState | null | undefined;
  private loading: Promise<ModelState | null> | undefined;

  constructor(ctx: DurableObjectState, env: Env, parts: CoordinatorParts) {
    super(ctx, env);
    this.repo = parts.models;
    this.writer = parts.writer;
    this.outbox = parts.outbox;
    this.policies = parts.policies;
  }

  // --- reads, answered from memory -------------------------------------------------------------

  // `known`: the revision of the answer the caller already holds (see Revised).

  getModel(modelId: string, name: string, known?: string): Promise<Reply<Revised<RegisteredModel>>> {
    return this.readRevised(modelId, name, known, (s) => s.toRegisteredModel());
  }

  getVersion(
    modelId: string,
    name: string,
    version: number,
    known?: string,
  ): Promise<Reply<Revised<ModelVersion | null>>> {
    return this.readRevised(modelId, name, known, (s) => s.version(version) ?? null);
  }

  getLatestVersions(
    modelId: string,
    name: string,
    stages: Stage[],
    known?: string,
  ): Promise<Reply<Revised<ModelVersion[]>>> {
    return this.readRevised(modelId, name, known, (s) => s.latestVersions(stages));
  }

  getVersionByAlias(
    modelId: string,
    name: string,
    alias: string,
    known?: string,
  ): Promise<Reply<Revised<ModelVersion | null>>> {
    return this.readRevised(modelId, name, known, (s) => {
      const version = s.aliases.get(alias);
      return version === undefined ? null : (s.version(version) ?? null);
    });
  }

  resolve(modelId: string, name: string, ref: ModelRef, known?: string): Promise<Reply<Revised<ModelVersion | null>>> {
    return this.readRevised(modelId, name, known, (s) => s.resolve(ref) ?? null);
  }

  /**
   * What a rollback would do now (the UI's preview), planned as `rollback` plans it. Not in the
   * queue and writes nothing: `rollback` decides again when asked to act.
   */
  planRollback(modelId: string, name: string, target?: number): Promise<Reply<RollbackPlan>> {
    return this.read(modelId, name, (s) => this.writer.planRollback(s, { target }));
  }

  // --- mutations, one at a time ----------------------------------------------------------------

  createModel(model: ModelRecord, tags: Tag[], actor: Actor): Promise<Result<RegisteredModel>> {
    return this.mutation(async () => {
      try {
        await this.outbox.arm(model.id);
        await this.writer.createModel(model, tags, actor);
        this.state = ModelState.fromSnapshot({ model, tags, aliases: [], versions: [] });
        return ok(this.state.toRegisteredModel());
      } catch (error) {
        return this.fail(error);
      }
    });
  }

  rename(modelId: string, name: string, newName: string, actor: Actor) {
    return this.mutate(modelId, name, (s) => this.writer.rename(s, newName, actor));
  }

  updateDescription(modelId: string, name: string, description: string) {
    return this.mutate(modelId, name, (s) => this.writer.updateDescription(s, description));
  }

  deleteModel(modelId: string, name: string, actor: Actor) {
    return this.mutateEvicting(modelId, name, async (s) => {
      const files = await this.writer.deleteModel(s, actor);
      this.state = null;
      this.policies.clear();
      return { value: undefined, files };
    });
  }

  setModelTag(modelId: string, name: string, tag: Tag, actor: Actor) {
    return this.mutate(modelId, name, (s) => this.writer.setModelTag(s, tag, actor));
  }

  deleteModelTag(modelId: string, name: string, key: string, actor: Actor) {
    return this.mutate(modelId, name, (s) => this.writer.deleteModelTag(s, key, actor));
  }

  createVersion(modelId: string, name: string, input: NewVersion, actor: Actor) {
    return this.mutate(modelId, name, (s) => this.writer.createVersion(s, input, actor));
  }

  updateVersionDescription(modelId: string, name: string, version: number, description: string) {
    return this.mutate(modelId, name, (s) => this.writer.updateVersionDescription(s, version, description));
  }

  deleteVersion(modelId: string, name: string, version: number, actor: Actor) {
    return this.mutateEvicting(modelId, name, async (s) => ({
      value: undefined,
      files: await this.writer.deleteVersion(s, version, actor),
    }));
  }

  setVersionTag(modelId: string, name: string, version: number, tag: Tag, actor: Actor) {
    return this.mutate(modelId, name, (s) => this.writer.setVersionTag(s, version, tag, actor));
  }

  deleteVersionTag(modelId: string, name: string, version: number, key: string, actor: Actor) {
    return this.mutate(modelId, name, (s) => this.writer.deleteVersionTag(s, version, key, actor));
  }

  /** `caller`: who asks, for the promotion policy's scope rules (null: unknown, refused by them). */
  transition(modelId: string, name: string, transition: Transition, caller: Caller | null = null) {
    return this.mutate(modelId, name, async (s) => {
      // The model's own rules (the version exists, is READY for Staging or Production) come first.
      this.writer.admit(s, transition.version, transition.stage);
      await this.policies.check(s, transition.version, transition.stage, caller);
      return this.writer.transition(s, transition);
    });
  }

  /**
   * Records a version's scan verdict and its event once all its files are scanned (the scans
   * queue's consumer calls it by id: it knows no name). In the queue, so the event takes its
   * place in the model's sequence. Answers the status, or null (no such model or version).
   */
  recordScan(modelId: string, version: number): Promise<Result<string | null>> {
    return this.mutation(async () => {
      try {
        const state = await this.load(modelId);
        if (!state) return ok(null);
        await this.outbox.arm(modelId);
        return ok(await this.policies.recordScan(state, version));
      } catch (error) {
        return this.fail(error);
      }
    });
  }

  getPolicy(modelId: string, name: string): Promise<Reply<PolicyRecord | null>> {
    return this.read(modelId, name, () => this.policies.get());
  }

  /** Through the queue like every mutation: a transition never sees half of a policy change. */
  setPolicy(modelId: string, name: string, record: PolicyRecord) {
    return this.mutate(modelId, name, async () => this.policies.set(record));
  }

  clearPolicy(modelId: string, name: string) {
    return this.mutate(modelId, name, async () => this.policies.clear());
  }

  /**
   * Restores the previous Production version (or `request.target`) as one mutation: the decision
   * (read from the history in D1) and the write happen with no other change of this model in between.
   */
  rollback(modelId: string, name: string, request: RollbackRequest, caller: Caller | null = null) {
    return this.mutate(modelId, name, async (s) => {
      const plan = await this.writer.planRollback(s, request);
      await this.policies.check(s, plan.target, "Production", caller, "rollback");
      return this.writer.rollback(s, plan, request);
    });
  }

  setAlias(modelId: string, name: string, alias: string, version: number, actor: Actor) {
    return this.mutate(modelId, name, (s) => this.writer.setAlias(s, alias, version, actor));
  }

  deleteAlias(modelId: string, name: string, alias: string, actor: Actor) {
    return this.mutate(modelId, name, (s) => this.writer.deleteAlias(s, alias, actor));
  }

  /** The outbox relay (src/events/outbox-alarm.ts), in the queue: it sees every committed change. */
  async alarm(): Promise<void> {
    await this.queue.run(() => this.outbox.run());
  }

  // --- plumbing --------------------------------------------------------------------------------

  /**
   * The state's revision: a new one whenever the in-memory state may have changed (each load, each
   * finished mutation), unique across this object's lifetimes through the random epoch.
   */
  private readonly epoch = crypto.randomUUID();
  private counter = 0;
  /** A mutation is under way: its change may be partly applied in memory, so no revision is vouched for. */
  private mutating = false;

  private readRevised<T>(
    modelId: string,
    name: string,
    known: string | undefined,
    answer: (s: ModelState) => T,
  ): Promise<Reply<Revised<T>>> {
    return this.read(modelId, name, (s): Revised<T> => {
      if (this.mutating) return { revision: null, value: answer(s) };
      const revision = `${this.epoch}:${this.counter}`;
      return known === revision ? { revision, current: true } : { revision, value: answer(s) };
    });
  }

  /** Runs a mutation in the queue, marking the state as changing until it settles. */
  private mutation<T>(task: () => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      this.mutating = true;
      try {
        return await task();
      } finally {
        this.mutating = false;
        this.counter += 1;
      }
    });
  }

  private async read<T>(modelId: string, name: string, answer: (s: ModelState) => T | Promise<T>): Promise<Reply<T>> {
    try {
      const state = await this.load(modelId);
      if (!state || state.name !== name) return STALE;
      return ok(await answer(state));
    } catch (error) {
      return this.fail(error);
    }
  }

  private mutate<T>(modelId: string, name: string, change: (s: ModelState) => Promise<T>): Promise<Reply<T>> {
    return this.mutateEvicting(modelId, name, async (s) => ({ value: await change(s), files: [] }));
  }

  /** A mutation that may also retire files (deletes): the Worker drops them from its edge cache. */
  private mutateEvicting<T>(
    modelId: string,
    name: string,
    change: (s: ModelState) => Promise<{ value: T; files: FileRef[] }>,
  ): Promise<Reply<T>> {
    return this.mutation(async () => {
      try {
        const state = await this.load(modelId);
        if (!state || state.name !== name) return STALE;
        // Before the change's D1 batch: a crash right after the commit still leaves the alarm armed.
        await this.outbox.arm(modelId);
        const before = state.resolutionView();
        const { value, files } = await change(state);
        const after = this.state ? this.state.resolutionView() : new Map<string, string>();
        return { ...ok(value), changed: { name, refs: changedRefs(before, after, this.state?.name !== name), files } };
      } catch (error) {
        return this.fail(error);
      }
    });
  }

  /** Loads the model once; concurrent callers share the one load, so a late load never overwrites a newer state. */
  private load(modelId: string): Promise<ModelState | null> {
    if (this.state !== undefined) return Promise.resolve(this.state);
    this.loading ??= this.repo.loadSnapshot(modelId).then(
      (snapshot) => {
        this.state = snapshot ? ModelState.fromSnapshot(snapshot) : null;
        this.counter += 1;
        this.loading = undefined;
        return this.state;
      },
      (error: unknown) => {
        this.loading = undefined;
        throw error;
      },
    );
    return this.loading;
  }

  private fail(error: unknown): Failure {
    if (error instanceof RegistryError && error.code !== "INTERNAL_ERROR") {
      return { ok: false, code: error.code, message: error.message };
    }
    // An unexpected failure may leave memory and D1 out of step: reload from D1 on the next call.
    this.state = undefined;
    console.error("coordinator failure", error instanceof Error ? error.message : String(error));
    return {
      ok: false,
      code: "INTERNAL_ERROR",
      message: error instanceof RegistryError ? error.message : "Internal error in the model coordinator.",
    };
  }
}

function changedRefs(before: Map<string, string>, after: Map<string, string>, everything: boolean): string[] {
  const refs = new Set<string>();
  for (const [ref, view] of before) if (everything || after.get(ref) !== view) refs.add(ref);
  for (const [ref, view] of after) if (before.get(ref) !== view) refs.add(ref);
  if (everything || refs.size > 0) for (const ref of MODEL_WIDE_REFS) refs.add(ref);
  return [...refs];
}
