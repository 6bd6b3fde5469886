/**
 * ScanRange as AWS defines it: the records that START within [start, end] (inclusive), each
 * read to its end even past `end`. The bytes are read from `start - 1`: a record starts at
 * `start` only if the byte before it ends one, so everything up to the first record delimiter
 * at or after `start - 1` is dropped. After `end`, bytes pass until the record under way ends.
 * Works on bytes: the delimiter is one ASCII byte (the last of \r\n), never inside a UTF-8
 * sequence.
 */
export async function* scanRangeBytes(
  source: AsyncIterable<Uint8Array>,
  readFrom: number,
  start: number,
  end: number,
  delimiter: number,
): AsyncGenerator<Uint8Array> {
  let position = readFrom;
  let skipping = start > 0;
  // Whether the last byte passed on ended a record (true at the start of a record).
  let atBoundary = true;
  for await (const chunk of source) {
    let from = 0;
    if (skipping) {
      const found = chunk.indexOf(delimiter, Math.max(0, start - 1 - position));
      if (found < 0) {
        position += chunk.byteLength;
        if (position > end + 1) return;
        continue;
      }
      skipping = false;
      from = found + 1;
    }
    const endInChunk = end + 1 - position;
    if (endInChunk >= chunk.byteLength) {
      if (from < chunk.byteLength) {
        atBoundary = chunk[chunk.byteLength - 1] === delimiter;
        yield chunk.subarray(from);
      }
      position += chunk.byteLength;
      continue;
    }
    // The range ends in this chunk: finish the record under way, then stop.
    const tailFrom = Math.max(from, endInChunk);
    const lastInRange = tailFrom > from ? chunk[tailFrom - 1] === delimiter : atBoundary;
    if (lastInRange) {
      if (tailFrom > from) yield chunk.subarray(from, tailFrom);
      return;
    }
    const close = chunk.indexOf(delimiter, tailFrom);
    if (close >= 0) {
      yield chunk.subarray(from, close + 1);
      return;
    }
    yield chunk.subarray(from);
    atBoundary = false;
    position += chunk.byteLength;
    // Past `end` with a record still open: later chunks pass up to its delimiter only.
    yield* restOfRecord(source, delimiter);
    return;
  }
}

async function* restOfRecord(
  source: AsyncIterable<Uint8Array>,
  delimiter: number,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    const close = chunk.indexOf(delimiter);
    if (close >= 0) {
      yield chunk.subarray(0, close + 1);
      return;
    }
    yield chunk;
  }
}
