import { EngineFailureError } from '../errors.js';
import type { EngineFailure } from '../protocol/messages.js';

/**
 * What a table operation inside a transaction answers: a value, or a failure returned as data
 * (a throw inside an lmdb-js transaction is not a clean abort), rethrown by `unwrap` outside it.
 */
export type Outcome<T> = T | { failure: EngineFailure };

export function failed(code: EngineFailure['code'], message: string): { failure: EngineFailure } {
  return { failure: { code, message } };
}

/** Transactions return failures as data (a throw inside one is not a clean abort): rethrow here. */
export function unwrap<T extends object>(outcome: Outcome<T>): T {
  if ('failure' in outcome) throw new EngineFailureError(outcome.failure);
  return outcome;
}

/**
 * Walks a key range entry by entry (each step may jump past a rolled-up prefix) and returns
 * up to `limit` entries, reading one more to know whether the page is truncated.
 */
export function collectPage<T>(
  first: Buffer,
  end: Buffer,
  limit: number,
  next: (start: Buffer, end: Buffer) => { entry: T; resumeAt: Buffer } | undefined,
): { entries: T[]; truncated: boolean } {
  const entries: T[] = [];
  let start = first;
  while (entries.length <= limit) {
    const step = next(start, end);
    if (step === undefined) break;
    entries.push(step.entry);
    start = step.resumeAt;
  }
  const truncated = entries.length > limit;
  if (truncated) entries.length = limit;
  return { entries, truncated };
}
