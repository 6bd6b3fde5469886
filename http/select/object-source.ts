import { assert } from '../../engine/assert.js';
import type { ShardClient } from '../../engine/pool/shard-client.js';
import { returnCredit } from '../../engine/protocol/flow.js';
import { fromEngineFailure } from '../s3/engine-errors.js';
import { type Opened, releaseOpened } from '../s3/handlers/object-get.js';
import type { ByteRange } from '../s3/range.js';

/**
 * `range` of an opened object as an async iterable of verified chunks, read through the same
 * read session a GET streams from. Each chunk's buffer goes back to the shard (its credit) when
 * the next is asked for, so the shard reads ahead at most one window and a slow consumer (a
 * slow client, through the event sink's backpressure) slows the reads. A consumer that stops
 * early (LIMIT, ScanRange end, an error) cancels the session.
 */
export async function* objectChunks(
  shard: ShardClient,
  opened: Opened,
  range: ByteRange,
  onClientGone: (handler: () => void) => void,
): AsyncGenerator<Uint8Array> {
  if (opened.inlineBody !== null || range.end === range.start) {
    releaseOpened(shard, opened);
    if (opened.inlineBody !== null && range.end > range.start)
      yield opened.inlineBody.subarray(range.start, range.end);
    return;
  }
  assert(opened.session, 'a body in blocks streams from a read session');
  const queue: Array<{ body: ArrayBuffer; bytes: number }> = [];
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const waiting = wake;
    wake = null;
    waiting?.();
  };
  shard.resume(
    opened.reqId,
    { kind: 'ReadRange', reqId: opened.reqId, start: range.start, endExclusive: range.end },
    {
      onReply: (reply, body) => {
        if (reply.kind === 'BodyChunk') {
          assert(body !== undefined, 'a body chunk carries bytes');
          queue.push({ body, bytes: reply.bytes });
        } else if (reply.kind === 'Failed') {
          failure = fromEngineFailure(reply.failure);
        }
        notify();
      },
    },
  );
  // A client gone cancels the session (openObject's abort handler): no more replies will come,
  // so a wait for the next chunk must end here.
  onClientGone(() => {
    failure ??= new Error('the client went away');
    notify();
  });
  let received = 0;
  const total = range.end - range.start;
  try {
    while (received < total) {
      while (queue.length === 0 && failure === null)
        await new Promise<void>((resolve) => (wake = resolve));
      if (failure !== null) throw failure;
      const chunk = queue.shift() as { body: ArrayBuffer; bytes: number };
      received += chunk.bytes;
      try {
        yield new Uint8Array(chunk.body, 0, chunk.bytes);
      } finally {
        returnCredit(shard, opened.reqId, chunk.body);
      }
    }
  } finally {
    if (received < total) shard.cancel(opened.reqId);
  }
}
