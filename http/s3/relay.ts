import type { ShardCall, ShardClient } from '../../engine/pool/shard-client.js';
import { returnCredit } from '../../engine/protocol/flow.js';
import type { ShardResult } from '../../engine/protocol/messages.js';
import type { RequestContext } from './context.js';
import { fromEngineFailure } from './engine-errors.js';
import { S3Error } from './errors.js';

/** An object held open by a read session on its shard ('relay', 'copy'), and the range to move. */
export interface RelaySource {
  shard: ShardClient;
  reqId: number;
  start: number;
  end: number;
}

/**
 * Streams bytes from one shard's read session into a write session that `begin` opens on
 * another (or the same) shard: each buffer is transferred onward and handed back to the source
 * with the target's credit, so the HTTP thread copies no byte and holds at most one window.
 * Server-side copies that cannot share blocks (byte ranges, SSE-C re-encryption) go this way.
 */
export function relayBody(
  ctx: RequestContext,
  source: RelaySource,
  target: ShardClient,
  begin: ShardCall,
): Promise<ShardResult> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      source.shard.cancel(source.reqId);
      target.cancel(targetReqId);
      reject(error);
    };
    let targetReqId: number;
    try {
      targetReqId = target.open(begin, {
        onReply: (reply, body) => {
          if (reply.kind === 'Credit') returnCredit(source.shard, source.reqId, body);
          else if (reply.kind === 'Failed') fail(fromEngineFailure(reply.failure));
          else if (reply.kind === 'Done' && !settled) {
            settled = true;
            resolve(reply.result);
          }
        },
      });
    } catch (error) {
      // The target refused to open (SlowDown, a shard restarting): the source's read session
      // must still be given back, or its shard keeps it (and the read-session budget) for good.
      settled = true;
      source.shard.cancel(source.reqId);
      reject(error);
      return;
    }
    ctx.res.onAbort(() => fail(new S3Error('RequestTimeout', 'client disconnected')));
    source.shard.resume(
      source.reqId,
      { kind: 'ReadRange', reqId: source.reqId, start: source.start, endExclusive: source.end },
      {
        onReply: (reply, body) => {
          if (reply.kind === 'BodyChunk' && body !== undefined) {
            target.send({ kind: 'BodyChunk', reqId: targetReqId, bytes: reply.bytes }, body);
          } else if (reply.kind === 'Failed') fail(fromEngineFailure(reply.failure));
          else if (reply.kind === 'Done')
            target.send({ kind: 'PutEnd', reqId: targetReqId, expect: {} });
        },
      },
    );
  });
}
