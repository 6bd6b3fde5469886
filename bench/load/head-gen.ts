/**
 * A minimal keep-alive HTTP/1.1 load generator for HEAD, run in the runner's process. wrk cannot
 * drive HEAD against S3: its parser is not told that a HEAD response has no body, so it waits
 * for the Content-Length bytes that never come. This one sends the same presigned lines (cycled,
 * one connection per slot) and reads only the response head; its figures come back in wrk's shape.
 * It is slower than wrk (one Node thread), which the raw target's HEAD figure shows.
 */
import { readFile } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import type { WrkResult } from './wrk.js';

export interface HeadRun {
  port: number;
  hostHeader: string;
  requestsFile: string;
  connections: number;
  durationS: number;
  timeoutS: number;
}

export async function runHeadLoad(run: HeadRun): Promise<WrkResult> {
  const lines = (await readFile(run.requestsFile, 'utf8')).split('\n').filter((l) => l !== '');
  const requests = lines.map((line) =>
    Buffer.from(`${line} HTTP/1.1\r\nHost: ${run.hostHeader}\r\n\r\n`),
  );
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const errors = { connect: 0, read: 0, write: 0, status: 0, timeout: 0 };
  let next = 0;
  let stopping = false;
  const start = process.hrtime.bigint();
  const endAt = start + BigInt(Math.round(run.durationS * 1e9));

  const connection = (): Promise<void> =>
    new Promise((resolve) => {
      let socket: Socket;
      let sentAt = 0n;
      let pending = '';
      let closing = false;
      let finished = false;
      let timer: NodeJS.Timeout | undefined;
      const send = (): void => {
        if (stopping || process.hrtime.bigint() >= endAt) {
          finished = true;
          socket.end();
          resolve();
          return;
        }
        const request = requests[next++ % requests.length]!;
        sentAt = process.hrtime.bigint();
        timer = setTimeout(() => {
          errors.timeout++;
          socket.destroy(); // 'close' opens a new connection
        }, run.timeoutS * 1000);
        socket.write(request);
      };
      const open = (): void => {
        pending = '';
        closing = false;
        const s = createConnection({ host: '127.0.0.1', port: run.port });
        socket = s;
        s.setNoDelay(true);
        s.on('connect', send);
        s.on('data', (chunk: Buffer) => {
          pending += chunk.toString('latin1');
          const end = pending.indexOf('\r\n\r\n');
          if (end < 0) return;
          clearTimeout(timer);
          latencies.push(Number(process.hrtime.bigint() - sentAt) / 1000);
          const status = pending.slice(9, 12);
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (Number(status) > 399) errors.status++;
          const head = pending.slice(0, end).toLowerCase();
          pending = pending.slice(end + 4);
          // HTTP/1.0 answers (moto's werkzeug) and `connection: close` end the connection.
          if (head.startsWith('http/1.0') || /\r\nconnection:\s*close/.test(head)) {
            closing = true;
            s.end();
            return;
          }
          send();
        });
        s.on('error', () => {
          if (!closing) errors.read++;
        });
        s.on('close', () => {
          clearTimeout(timer);
          if (!finished && !stopping && process.hrtime.bigint() < endAt) open();
          else resolve();
        });
      };
      open();
    });

  const hardStop = setTimeout(
    () => {
      stopping = true;
    },
    (run.durationS + run.timeoutS) * 1000,
  );
  await Promise.all(Array.from({ length: run.connections }, connection));
  clearTimeout(hardStop);
  const durationUs = Number(process.hrtime.bigint() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number =>
    latencies.length === 0
      ? 0
      : latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
  const mean = latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length);
  return {
    requests: latencies.length,
    duration_us: Math.round(durationUs),
    bytes: 0,
    errors,
    statuses,
    latency_us: {
      min: Math.round(latencies[0] ?? 0),
      mean,
      max: Math.round(latencies.at(-1) ?? 0),
      p50: Math.round(pct(50)),
      p90: Math.round(pct(90)),
      p99: Math.round(pct(99)),
      p999: Math.round(pct(99.9)),
    },
  };
}
