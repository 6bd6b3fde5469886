/** Invariant checks. A failed assertion is a bug in hangar, never an operating error. */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function assertNever(value: never, message = 'unexpected variant'): never {
  throw new AssertionError(`${message}: ${JSON.stringify(value)}`);
}
