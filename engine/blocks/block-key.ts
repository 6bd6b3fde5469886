import { DEFAULT_TIER } from '../storage-config.js';
import { isBlockHash } from './store.js';

/**
 * A block's key: the name its references, refcount, pins and errors go by. Dedup is per tier
 * (issue 18): the same bytes in two tiers are two files, counted apart. The default tier's keys
 * are the bare SHA-256 (so data directories from before tiers need no migration); another
 * tier's are `<tier>:<sha256>`. Files on disk are always named by the bare hash: a data
 * directory belongs to one tier, so names cannot clash.
 */
export interface SplitKey {
  tier: string;
  hash: string;
}

export function blockKeyOf(tier: string, hash: string): string {
  return tier === DEFAULT_TIER ? hash : `${tier}:${hash}`;
}

export function splitBlockKey(key: string): SplitKey {
  const colon = key.indexOf(':');
  if (colon < 0) return { tier: DEFAULT_TIER, hash: key };
  return { tier: key.slice(0, colon), hash: key.slice(colon + 1) };
}

/** The SHA-256 the block's bytes hash to (the key without its tier). */
export function contentHashOf(key: string): string {
  return splitBlockKey(key).hash;
}

export function tierOfKey(key: string): string {
  return splitBlockKey(key).tier;
}

/** Whether a name is a block key: a SHA-256, bare or behind a tier name. */
export function isBlockKey(name: string): boolean {
  const { tier, hash } = splitBlockKey(name);
  return isBlockHash(hash) && (tier === DEFAULT_TIER || /^[a-z][a-z0-9_-]{0,31}$/.test(tier));
}

/** The tier a list of block keys lives in (a version's blocks all live in one). */
export function tierOfBlocks(blocks: readonly { hash: string }[]): string {
  const first = blocks[0];
  return first === undefined ? DEFAULT_TIER : tierOfKey(first.hash);
}

/** A record's `tier` field for blocks of a tier (none for the default tier or no blocks). */
export function tierFieldOf(blocks: readonly { hash: string }[]): { tier?: string } {
  const tier = tierOfBlocks(blocks);
  return tier === DEFAULT_TIER ? {} : { tier };
}
