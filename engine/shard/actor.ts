import type { MessagePort } from 'node:worker_threads';
import { createLogger, followLogLevel } from '../log.js';
import { FramePort } from '../protocol/codec.js';
import type { ShardRequest } from '../protocol/messages.js';
import { Shard, type ShardSettings } from './shard.js';

export interface AttachTask {
  settings: ShardSettings;
  port: MessagePort;
}

/**
 * piscina task that pins one shard actor to this worker thread. It resolves only when the HTTP
 * thread closes the port (shutdown), so the single-thread pool never runs anything else here and
 * the actor keeps its LMDB environment and block directory for its whole life.
 */
export default async function attach(task: AttachTask): Promise<void> {
  const { port, settings } = task;
  // Lines in the main thread's format, written from this thread straight to stdout.
  const logger = createLogger(settings.log).child({ shard: settings.shardId });
  followLogLevel(logger);
  const logError = (error: unknown): void => logger.error({ err: error }, 'shard error');
  const mailbox = new FramePort(port);
  const shard = new Shard(settings, (reply, body) => mailbox.post(reply, body), logError);
  const ready = await shard.start();
  const closed = new Promise<void>((resolve) => port.once('close', resolve));
  mailbox.onMessage<ShardRequest>((message, body) => shard.handle(message, body));
  mailbox.post({ kind: 'Done', reqId: 0, result: ready });
  await closed;
  await shard.stop();
}
