/**
 * Round trips to a real worker_threads Worker, the hop between the HTTP thread and a shard actor.
 * (a) a small request header: cbor-x framing into a transferred ArrayBuffer (engine/protocol/
 *     codec.ts, what hangar does) vs posting the same object by structured clone (reference);
 * (b) 1 MiB of body: transferred both ways (what hangar does with staging buffers) vs copied
 *     both ways by structured clone (reference).
 * Both include two thread wake-ups, which usually dominate; on a loaded machine expect noise.
 */
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { type Frame, postFrame, readFrame } from '../../engine/protocol/codec.js';
import type { EchoWorkerData } from './echo-worker.js';
import {
  check,
  MIB,
  type MicroOptions,
  type MicroResult,
  newBench,
  REF_PREFIX,
  runGroup,
} from './harness.js';

/** A request header about the size of a GET's. */
const SMALL = {
  kind: 'Get',
  reqId: 123_456,
  bucketId: '3f1c2b7d8e906c1f3c8e5a7b4e0d9a51',
  key: 'photos/2024/05/holiday pictures/IMG_0042.jpg',
  range: { start: 0, end: 65_535 },
  conditions: { ifMatch: '"9b2cf535f27731c974343645a3985328"' },
  credit: 1_048_576,
};

/** One outstanding request at a time per port: resolves with the next message. */
class Replies<T> {
  #waiting: ((value: T) => void) | undefined;
  constructor(port: MessagePort) {
    port.on('message', (value: T) => {
      const resolve = this.#waiting;
      this.#waiting = undefined;
      resolve?.(value);
    });
  }
  next(): Promise<T> {
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }
}

export async function run(opts: MicroOptions): Promise<MicroResult[]> {
  const framed = new MessageChannel();
  const cloned = new MessageChannel();
  const data: EchoWorkerData = { framed: framed.port2, cloned: cloned.port2 };
  const worker = new Worker(new URL('./echo-worker.js', import.meta.url), {
    workerData: data,
    transferList: [framed.port2, cloned.port2],
  });
  const framedReplies = new Replies<Frame>(framed.port1);
  const clonedReplies = new Replies<{ message: object; body?: ArrayBuffer }>(cloned.port1);
  try {
    // (a) small message.
    const framedSmall = async (): Promise<void> => {
      const reply = framedReplies.next();
      postFrame(framed.port1, SMALL);
      readFrame<typeof SMALL>(await reply);
    };
    const clonedSmall = async (): Promise<void> => {
      const reply = clonedReplies.next();
      cloned.port1.postMessage({ message: SMALL });
      await reply;
    };
    await framedSmall();
    const small = newBench('actor-small', opts)
      .add('cbor-x frame round trip (small header)', framedSmall)
      .add(`${REF_PREFIX}structured clone round trip`, clonedSmall);
    const results = await runGroup('actor-small', small);

    // (b) 1 MiB body. The transferred buffer comes back and is reused, as staging buffers are.
    let staging = new ArrayBuffer(MIB);
    const copied = new ArrayBuffer(MIB);
    const header = { kind: 'PutData', reqId: 1, credit: MIB };
    const transferBody = async (): Promise<void> => {
      const reply = framedReplies.next();
      postFrame(framed.port1, header, staging);
      const body = readFrame<typeof header>(await reply).body;
      check(body !== undefined && body.byteLength === MIB, 'body came back');
      staging = body;
    };
    const copyBody = async (): Promise<void> => {
      const reply = clonedReplies.next();
      cloned.port1.postMessage({ message: header, body: copied });
      check((await reply).body?.byteLength === MIB, 'copy came back');
    };
    await transferBody();
    await copyBody();
    const big = newBench('actor-1mib', opts)
      .add('1 MiB transferred round trip', transferBody)
      .add(`${REF_PREFIX}1 MiB copied round trip`, copyBody);
    results.push(
      ...(await runGroup('actor-1mib', big, {
        [`1 MiB transferred round trip`]: MIB,
        [`${REF_PREFIX}1 MiB copied round trip`]: MIB,
      })),
    );
    return results;
  } finally {
    framed.port1.close();
    cloned.port1.close();
    await worker.terminate();
  }
}
