/**
 * Echo worker for actor.bench.ts. `framed` speaks the shard protocol exactly as
 * engine/shard/actor.ts does (readFrame in, postFrame out, the body buffer transferred back);
 * `cloned` posts back whatever arrives, by structured clone (the reference).
 */
import { type MessagePort, workerData } from 'node:worker_threads';
import { type Frame, postFrame, readFrame } from '../../engine/protocol/codec.js';

export interface EchoWorkerData {
  framed: MessagePort;
  cloned: MessagePort;
}

const { framed, cloned } = workerData as EchoWorkerData;

framed.on('message', (frame: Frame) => {
  const { message, body } = readFrame<object>(frame);
  postFrame(framed, message, body);
});

cloned.on('message', (value: unknown) => {
  cloned.postMessage(value);
});
