import { open } from 'node:fs/promises';
import { shardCounters } from '../stats.js';

/**
 * Group commit for directory fsyncs. A renamed block file is durable only once its directory is
 * fsynced; many concurrent PUTs rename into the same directories, so callers that arrive while a
 * sync of that directory is queued share it instead of each paying for one.
 */
export class DirSyncer {
  private readonly running = new Map<string, Promise<void>>();
  private readonly queued = new Map<string, Promise<void>>();

  constructor(private readonly enabled: boolean) {}

  sync(dir: string): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    const waiting = this.queued.get(dir);
    if (waiting !== undefined) return waiting;
    const previous = this.running.get(dir) ?? Promise.resolve();
    // A sync that is already running may have started before our rename: queue a fresh one.
    const next = previous
      .catch(() => undefined)
      .then(() => {
        this.queued.delete(dir);
        this.running.set(dir, next);
        return shardCounters.timeFsync('dir', () => fsyncDir(dir));
      })
      .finally(() => {
        if (this.running.get(dir) === next) this.running.delete(dir);
      });
    this.queued.set(dir, next);
    return next;
  }
}

/** Makes the entries of `dir` (a create, rename or unlink in it) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
