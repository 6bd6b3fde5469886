import type { EngineFailure } from './protocol/messages.js';

/**
 * An operating failure an engine operation reports to its client (a missing key, a bad digest):
 * the shard turns it into a `Failed` reply. Anything else thrown in a shard is an internal error.
 */
export class EngineFailureError extends Error {
  constructor(readonly failure: EngineFailure) {
    super(failure.message);
    this.name = 'EngineFailureError';
  }
}

export function engineFailure(code: EngineFailure['code'], message: string): EngineFailureError {
  return new EngineFailureError({ code, message });
}
