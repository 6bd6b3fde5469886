import { LIMITS } from '../limits.js';
import type { OrphanSweeper } from './orphan-sweep.js';
import type { ScrubWorker } from './scrub.js';
import type { BackgroundWorker, WorkerStatus } from './worker.js';

/** A worker as ListWorkers shows it: Garage's WorkerInfoResp (ids are stable per process). */
export interface WorkerInfo extends Omit<WorkerStatus, 'lastError'> {
  id: number;
  name: string;
  lastError: { message: string; secsAgo: number } | null;
  persistentErrors: number | null;
}

/** A worker variable (Garage's names): how to read it, and how to set it when settable. */
interface Variable {
  get(): string;
  set?(value: string): Promise<void>;
}

export class WorkerVariableError extends Error {
  constructor(
    message: string,
    readonly reason: 'unknown' | 'readOnly' | 'invalid',
  ) {
    super(message);
  }
}

function timestamp(ms: number | null): string {
  return ms === null ? 'never' : new Date(ms).toISOString();
}

/** The scrub's variables (Garage's names). */
function scrubVariables(scrub: ScrubWorker): Array<[string, Variable]> {
  return [
    [
      'scrub-tranquility',
      {
        get: () => String(scrub.tranquility),
        set: async (value) => scrub.setTranquility(nonNegativeInteger('scrub-tranquility', value)),
      },
    ],
    [
      'scrub-next-run',
      {
        get: () => timestamp(scrub.nextRunMs),
        set: async (value) => {
          const atMs = Date.parse(value);
          if (Number.isNaN(atMs)) {
            throw new WorkerVariableError('scrub-next-run must be an ISO 8601 date', 'invalid');
          }
          await scrub.setNextRun(atMs);
        },
      },
    ],
    ['scrub-last-completed', { get: () => timestamp(scrub.lastCompletedMs) }],
    ['scrub-corruptions_detected', { get: () => String(scrub.corruptionsDetected) }],
  ];
}

/**
 * The workers that look after local block files: an embedded node's only. In cluster mode blocks
 * are RADOS objects, which Ceph scrubs and the orphan-gc leader collects (engine/shard/block-gc.ts).
 */
export interface LocalBlockWorkers {
  readonly scrub: ScrubWorker;
  readonly orphans: OrphanSweeper;
}

/**
 * The node's background workers and their tunable variables, in one place for the admin API
 * (ListWorkers, GetWorkerInfo, Get/SetWorkerVariable, LaunchRepairOperation).
 */
export class WorkerRegistry {
  private readonly workers: BackgroundWorker[];
  private readonly variables: ReadonlyMap<string, Variable>;

  constructor(
    /** null in cluster mode: no block files to scrub or sweep (nor their variables). */
    readonly localBlocks: LocalBlockWorkers | null,
    private readonly lifecycle: BackgroundWorker & {
      readonly lastCompleted: number | null;
      runNow(): Promise<unknown>;
    },
    notify: BackgroundWorker,
    accessLog: BackgroundWorker,
    private readonly replication: BackgroundWorker & { repairNow(): Promise<unknown> },
    private readonly inventory: BackgroundWorker & { runNow(): Promise<unknown> },
    restores: BackgroundWorker,
    drain?: BackgroundWorker,
  ) {
    this.workers = [
      ...(localBlocks === null ? [] : [localBlocks.scrub, localBlocks.orphans]),
      lifecycle,
      notify,
      accessLog,
      replication,
      inventory,
      restores,
    ];
    if (drain !== undefined) this.workers.push(drain);
    this.variables = new Map<string, Variable>([
      ...(localBlocks === null ? [] : scrubVariables(localBlocks.scrub)),
      ['lifecycle-last-completed', { get: () => timestamp(lifecycle.lastCompleted) }],
    ]);
  }

  /** Applies every bucket's lifecycle rules now (joins a run in progress, or queues one). */
  lifecycleNow(): Promise<unknown> {
    return this.lifecycle.runNow();
  }

  /** Writes every enabled inventory configuration's report now, due or not. */
  inventoryNow(): Promise<unknown> {
    return this.inventory.runNow();
  }

  /** Bucket replication's repair pass: queues again what destinations lack. */
  replicationRepairNow(): Promise<unknown> {
    return this.replication.repairNow();
  }

  /** Brings the status of workers that run elsewhere (edge threads) up to date. */
  async refresh(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.refresh?.()));
  }

  list(): WorkerInfo[] {
    return this.workers.map((worker, index) => this.infoOf(index + 1, worker));
  }

  get(id: number): WorkerInfo | undefined {
    const worker = this.workers[id - 1];
    return worker === undefined ? undefined : this.infoOf(id, worker);
  }

  private infoOf(id: number, worker: BackgroundWorker): WorkerInfo {
    const status = worker.status();
    return {
      id,
      name: worker.name,
      ...status,
      lastError:
        status.lastError === null
          ? null
          : {
              message: status.lastError.message,
              secsAgo: Math.max(0, Math.round((Date.now() - status.lastError.atMs) / 1000)),
            },
      persistentErrors: null,
    };
  }

  /** One variable, or all of them (variable null). */
  getVariables(variable: string | null): Record<string, string> {
    if (variable === null) {
      return Object.fromEntries([...this.variables].map(([name, v]) => [name, v.get()]));
    }
    return { [variable]: this.variable(variable).get() };
  }

  async setVariable(variable: string, value: string): Promise<string> {
    const v = this.variable(variable);
    if (v.set === undefined) {
      throw new WorkerVariableError(`${variable} is read-only`, 'readOnly');
    }
    await v.set(value);
    return v.get();
  }

  private variable(name: string): Variable {
    const v = this.variables.get(name);
    if (v === undefined) {
      throw new WorkerVariableError(
        `unknown worker variable ${name} (known: ${[...this.variables.keys()].join(', ')})`,
        'unknown',
      );
    }
    return v;
  }
}

function nonNegativeInteger(name: string, value: string): number {
  const n = Number(value.trim());
  if (!/^\d{1,4}$/.test(value.trim()) || n > LIMITS.scrubTranquilityMax) {
    throw new WorkerVariableError(
      `${name} must be an integer from 0 to ${LIMITS.scrubTranquilityMax}`,
      'invalid',
    );
  }
  return n;
}
