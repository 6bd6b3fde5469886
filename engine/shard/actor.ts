import type { MessagePort } from 'node:worker_threads';
import { createLogger, followLogLevel } from '../log.js';
import { FramePort } from '../protocol/codec.js';
import { laneOf } from '../protocol/lanes.js';
import type { ShardRequest, ShardResult } from '../protocol/messages.js';
import { Shard, type ShardSettings } from './shard.js';

// Runs in a shard thread (hosted by piscina, see engine/pool/shard-pool.ts).

export interface AttachTask {
  settings: ShardSettings;
  /** Lane 0: the main thread's mailbox. Its closing ends the actor. */
  port: MessagePort;
  /** Where the main thread sends further lanes (`LaneGrant`s): one per edge thread. */
  control: MessagePort;
}

/** A further mailbox of this shard: an edge thread's end is the other side of `port`. */
export interface LaneGrant {
  lane: number;
  port: MessagePort;
}

/**
 * piscina task that pins one shard actor to this worker thread. It resolves only when the main
 * thread closes lane 0 (shutdown), so the single-thread pool never runs anything else here and
 * the actor keeps its LMDB environment and block directory for its whole life. Every lane feeds
 * the same Shard; a reply goes back on the lane its reqId belongs to (engine/protocol/lanes.ts).
 */
export default async function attach(task: AttachTask): Promise<void> {
  const { port, control, settings } = task;
  // Lines in the main thread's format, written from this thread straight to stdout.
  const logger = createLogger(settings.log).child({ shard: settings.shardId });
  followLogLevel(logger);
  const logError = (error: unknown): void => logger.error({ err: error }, 'shard error');
  const lanes = new Map<number, FramePort>();
  const shard = await Shard.open(
    settings,
    // A lane closed (its edge thread ended): its late replies are dropped with it.
    (reply, body) => lanes.get(laneOf(reply.reqId))?.post(reply, body),
    logError,
  );
  const ready = await shard.start();
  const closed = new Promise<void>((resolve) => port.once('close', resolve));
  openLane(lanes, shard, ready, 0, port);
  // Lanes granted while the shard started waited in the control port's queue until now.
  control.on('message', (grant: LaneGrant) => {
    openLane(lanes, shard, ready, grant.lane, grant.port);
    grant.port.once('close', () => {
      lanes.delete(grant.lane);
      shard.cancelLane(grant.lane);
    });
  });
  await closed;
  control.close();
  for (const mailbox of lanes.values()) mailbox.close();
  await shard.stop();
}

/** Serves one lane and announces the shard on it (reqId 0: the lane's awaitReady). */
function openLane(
  lanes: Map<number, FramePort>,
  shard: Shard,
  ready: ShardResult,
  lane: number,
  port: MessagePort,
): void {
  const mailbox = new FramePort(port);
  lanes.set(lane, mailbox);
  mailbox.onMessage<ShardRequest>((message, body) => shard.handle(message, body));
  mailbox.post({ kind: 'Done', reqId: 0, result: ready });
}
