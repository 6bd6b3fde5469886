import { Worker } from 'node:worker_threads';

/**
 * How often the sampler reads the server's RssAnon. Linux keeps a high-water mark only for the
 * whole RSS (VmHWM), which counts LMDB's mapped file pages, so anonymous memory's peak is
 * sampled: every 2 ms, in a thread of its own, unslowed by what the test's event loop does.
 */
const SAMPLE_INTERVAL_MS = 2;

/**
 * The sampler's thread (CommonJS, run with `eval`). It throws when /proc/<pid>/status cannot be
 * read or has no RssAnon line, so a test can never pass on a sampler that saw nothing.
 */
const SAMPLER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const path = '/proc/' + workerData.pid + '/status';
const stop = new Int32Array(workerData.stop);
function anonBytes() {
  const match = /^RssAnon:\\s+(\\d+) kB$/m.exec(readFileSync(path, 'utf8'));
  if (match === null) throw new Error('no RssAnon line in ' + path);
  return Number(match[1]) * 1024;
}
const baselineBytes = anonBytes();
let peakBytes = baselineBytes;
let samples = 1;
parentPort.postMessage({ started: true });
while (Atomics.wait(stop, 0, 0, workerData.intervalMs) === 'timed-out') {
  peakBytes = Math.max(peakBytes, anonBytes());
  samples++;
}
parentPort.postMessage({ baselineBytes, peakBytes: Math.max(peakBytes, anonBytes()), samples });
`;

export interface AnonMemory {
  /** The server's anonymous resident memory when sampling started. */
  baselineBytes: number;
  /** The highest sample. */
  peakBytes: number;
  samples: number;
}

/** Samples a process's anonymous resident memory (RssAnon) until `stop()` returns the peak. */
export interface AnonSampler {
  stop(): Promise<AnonMemory>;
}

/** Starts sampling `pid`'s RssAnon; resolves once the baseline is read. Throws without /proc. */
export async function sampleAnonMemory(pid: number): Promise<AnonSampler> {
  const stopFlag = new SharedArrayBuffer(4);
  const worker = new Worker(SAMPLER_SOURCE, {
    eval: true,
    workerData: { pid, stop: stopFlag, intervalMs: SAMPLE_INTERVAL_MS },
  });
  const failed = new Promise<never>((_resolve, reject) => {
    // What a thread throws arrives cloned, not as an Error: wrap it.
    worker.once('error', (error: unknown) =>
      reject(
        new Error(`the memory sampler of pid ${pid} failed: ${(error as Error).message}`, {
          cause: error,
        }),
      ),
    );
    worker.once('exit', (code) =>
      reject(new Error(`the memory sampler of pid ${pid} exited (${code}) before reporting`)),
    );
  });
  failed.catch(() => undefined); // raced below; terminating the thread at the end rejects it too
  const nextMessage = <T>(): Promise<T> =>
    Promise.race([new Promise<T>((resolve) => worker.once('message', resolve)), failed]);
  await nextMessage<{ started: true }>();
  return {
    async stop() {
      const result = nextMessage<AnonMemory>();
      Atomics.store(new Int32Array(stopFlag), 0, 1);
      Atomics.notify(new Int32Array(stopFlag), 0);
      try {
        return await result;
      } finally {
        await worker.terminate();
      }
    },
  };
}

/** "baseline X MiB, peak Y MiB (N samples)", for a test's log. */
export function describeAnonMemory(memory: AnonMemory): string {
  const mib = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(0);
  return `server RssAnon: baseline ${mib(memory.baselineBytes)} MiB, peak ${mib(memory.peakBytes)} MiB (${memory.samples} samples)`;
}
