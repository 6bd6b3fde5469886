/**
 * Shared pieces of the property-based fuzz tests (test/unit/fuzz-*.test.ts): run parameters with
 * a time budget and a reproducible seed, the "only S3 errors" oracle, and mutators that turn a
 * valid input into a nearly-valid one (where parsers have their edge cases).
 */
import fc from 'fast-check';
import { S3Error } from '../../http/s3/errors.js';

/** FUZZ_SEED=<n> replays a failure; fast-check prints the seed and path of every failure. */
const SEED = process.env['FUZZ_SEED'] === undefined ? undefined : Number(process.env['FUZZ_SEED']);
/**
 * Run counts in the tests are multiplied by this: 3 in the suite (all fuzz-*.test.ts files take
 * about 20 s on a loaded 2-core machine); FUZZ_RUNS_SCALE=30 for a longer local session.
 */
const SCALE = Number(process.env['FUZZ_RUNS_SCALE'] ?? '3');
/**
 * Wall-clock budget of one property: past it fast-check stops generating (without failing), so
 * the suite stays bounded on a loaded machine (about 25 properties: 50 s at the very worst).
 * Inputs are size-bounded, so no single run can hang.
 */
const PROPERTY_BUDGET_MS = 2000;

export function fuzzParameters<T>(numRuns: number): fc.Parameters<T> {
  return {
    numRuns: Math.max(1, Math.round(numRuns * SCALE)),
    interruptAfterTimeLimit: PROPERTY_BUDGET_MS * Math.max(1, SCALE / 3),
    markInterruptAsFailure: false,
    ...(SEED === undefined ? {} : { seed: SEED }),
  };
}

/**
 * Throws fast-check's report (seed and counterexample) when the property failed. A run that the
 * time budget interrupted before its first case (a very loaded machine) found nothing: that is
 * not a failure.
 */
function throwIfFailed<T>(details: fc.RunDetails<T>): void {
  if (!details.failed) return;
  if (details.interrupted && details.counterexample === null && details.errorInstance === null)
    return;
  throw new Error(fc.defaultReportMessage(details));
}

/** Runs a property synchronously; its failure message names the seed to replay. */
export function check<T>(property: fc.IProperty<T>, numRuns: number): void {
  throwIfFailed(fc.check(property, fuzzParameters<T>(numRuns)));
}

export async function checkAsync<T>(
  property: fc.IAsyncProperty<T>,
  numRuns: number,
): Promise<void> {
  throwIfFailed(await fc.check(property, fuzzParameters<T>(numRuns)));
}

/**
 * The fuzz oracle: `work` may return anything or throw an S3Error (the parsers' contract), but
 * never throw anything else (TypeError, RangeError, AssertionError...). Returns the S3Error if any.
 */
export function onlyS3Error(work: () => unknown): S3Error | undefined {
  try {
    work();
    return undefined;
  } catch (error) {
    if (error instanceof S3Error) return error;
    throw error;
  }
}

/** One edit of a byte string. Positions are fractions of the length, so they fit any input. */
type Edit =
  | { kind: 'flip'; at: number; byte: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'duplicate'; at: number; length: number }
  | { kind: 'truncate'; at: number };

const fraction = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fraction,
    byte: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fraction,
    length: fc.integer({ min: 1, max: 16 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fraction,
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: fraction,
    length: fc.integer({ min: 1, max: 64 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fraction }),
);

function applyEdit(input: Buffer, edit: Edit): Buffer {
  const at = Math.floor(edit.at * (input.length + 1));
  switch (edit.kind) {
    case 'flip': {
      if (input.length === 0) return input;
      const out = Buffer.from(input);
      out[Math.min(at, out.length - 1)] = edit.byte;
      return out;
    }
    case 'delete':
      return Buffer.concat([input.subarray(0, at), input.subarray(at + edit.length)]);
    case 'insert':
      return Buffer.concat([input.subarray(0, at), edit.bytes, input.subarray(at)]);
    case 'duplicate':
      return Buffer.concat([input.subarray(0, at + edit.length), input.subarray(at)]);
    case 'truncate':
      return input.subarray(0, at);
  }
}

/** `valid` with 1 to `maxEdits` random edits (flips, deletions, insertions, repeats, a cut). */
export function mutatedBytes(valid: fc.Arbitrary<Buffer>, maxEdits = 4): fc.Arbitrary<Buffer> {
  return fc
    .tuple(valid, fc.array(editArb, { minLength: 1, maxLength: maxEdits }))
    .map(([input, edits]) => edits.reduce(applyEdit, input));
}

/** The same for text (edited as UTF-8 bytes, read back as latin1 so no byte is lost). */
export function mutatedText(valid: fc.Arbitrary<string>, maxEdits = 4): fc.Arbitrary<string> {
  return mutatedBytes(
    valid.map((text) => Buffer.from(text, 'utf8')),
    maxEdits,
  ).map((bytes) => bytes.toString('latin1'));
}

/** Strings made of the given tokens: random, but in the vocabulary the parser cares about. */
export function tokenSoup(tokens: readonly string[], maxTokens = 40): fc.Arbitrary<string> {
  return fc
    .array(fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 4 })), {
      maxLength: maxTokens,
    })
    .map((parts) => parts.join(''));
}

/** Cut points (sorted, deduplicated offsets in 0..length) for splitting a stream. */
export function cutsOf(length: number): fc.Arbitrary<number[]> {
  return fc
    .uniqueArray(fc.integer({ min: 0, max: length }), { maxLength: Math.min(length + 1, 24) })
    .map((cuts) => cuts.sort((a, b) => a - b));
}

/** `bytes` split at `cuts` into fresh copies (so a parser that keeps views is caught). */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    pieces.push(Buffer.from(bytes.subarray(start, cut)));
    start = cut;
  }
  return pieces;
}
