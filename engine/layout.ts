import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from './data-dir.js';

/**
 * The parts of a data directory's format fixed at its creation: placement hashes objects over
 * the shard count and addresses blocks by size-independent hashes, so the shard count cannot
 * change later without moving every object. Stored in `<dataDir>/layout.json`.
 */
export interface DataLayout {
  formatVersion: 1;
  shards: number;
}

export class LayoutError extends Error {}

/** A shard's directory (`shards/000/`): its LMDB partition, block files and quarantine. */
export function shardDir(dataDir: string, shardId: number): string {
  return join(dataDir, 'shards', String(shardId).padStart(3, '0'));
}

export function layoutPath(dataDir: string): string {
  return join(dataDir, 'layout.json');
}

export function readLayout(dataDir: string): DataLayout | null {
  const path = layoutPath(dataDir);
  if (!existsSync(path)) return null;
  const layout = JSON.parse(readFileSync(path, 'utf8')) as DataLayout;
  if (layout.formatVersion !== 1 || !Number.isInteger(layout.shards) || layout.shards < 1) {
    throw new LayoutError(`${path} is not a hangar layout this version understands`);
  }
  return layout;
}

/**
 * Returns the data directory's layout, creating it on first start. The directory is made (or
 * tightened to) 0700 first: see data-dir.ts.
 */
export function ensureLayout(dataDir: string, requestedShards: number | null): DataLayout {
  ensurePrivateDir(dataDir);
  const existing = readLayout(dataDir);
  if (existing !== null) {
    if (requestedShards !== null && requestedShards !== existing.shards) {
      throw new LayoutError(
        `config: shards is ${requestedShards} but the data directory ${dataDir} was created with ` +
          `${existing.shards} shards; the shard count of a data directory cannot change`,
      );
    }
    return existing;
  }
  const layout: DataLayout = {
    formatVersion: 1,
    shards: requestedShards ?? availableParallelism(),
  };
  writeFileSync(layoutPath(dataDir), `${JSON.stringify(layout, null, 2)}\n`, {
    mode: PRIVATE_FILE_MODE,
  });
  return layout;
}
