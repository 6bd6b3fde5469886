/**
 * A wire-level fuzzer for a live hangar: raw TCP to 127.0.0.1 only, seeded and bounded in count
 * and time. Each case builds bytes (random, or a valid signed request that it truncates, reorders,
 * mutates, splits into random writes or abandons), sends them, and must end with a response or a
 * close within `caseTimeoutMs`. What counts as a finding: no end in time, a 5xx other than 503,
 * a response header the request injected, or a valid request that was refused.
 *
 * Used by test/engine/wire-fuzz.test.ts (CI: thousands of cases) and tools/fuzz.ts (`npm run
 * fuzz -- --minutes N`). A finding names its seed and case index; `runCase` replays one.
 */
import { connect, type Socket } from 'node:net';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  chunkedPut,
  injectionRequest,
  mutateHeaders,
  Rng,
  serialize,
  signed,
  validRequest,
  type WireFuzzTarget,
} from './fuzz-wire-requests.js';
import { newBucket, randomBytesSeeded } from './server.js';

export { Rng, type WireFuzzTarget } from './fuzz-wire-requests.js';

/**
 * A fuzz target on a live server: a scratch bucket the cases write to, and a kept object of
 * `keepBytes` seeded bytes whose survival byte for byte is checked after the run.
 */
export async function prepareTarget(
  s3: S3Client,
  port: number,
  seed: number,
  keepBytes: number,
): Promise<{ target: WireFuzzTarget; kept: Buffer }> {
  const keepBucket = await newBucket(s3, 'fuzz-keep');
  const scratchBucket = await newBucket(s3, 'fuzz-scratch');
  const kept = randomBytesSeeded(keepBytes, seed);
  await s3.send(new PutObjectCommand({ Bucket: keepBucket, Key: 'known', Body: kept }));
  return { target: { port, scratchBucket, keepBucket, keepKey: 'known', keepBytes }, kept };
}

export interface WireFuzzOptions {
  seed: number;
  /** Stop after this many cases... */
  maxCases: number;
  /** ...or at this time (Date.now()), whichever comes first. */
  deadlineMs: number;
  /** Cases in flight at once. */
  concurrency: number;
  /** A case that has neither a response nor a close by then is a finding (a hang). */
  caseTimeoutMs: number;
  /** Case kinds to leave out (e.g. while a known bug is fixed elsewhere). */
  excludeKinds?: readonly CaseKind[];
}

export interface Finding {
  seed: number;
  index: number;
  kind: CaseKind;
  problem: string;
  /** The first bytes sent, printable. */
  sent: string;
  /** The first bytes received, printable. */
  received: string;
}

export interface WireFuzzReport {
  seed: number;
  cases: number;
  elapsedMs: number;
  byKind: Partial<Record<CaseKind, number>>;
  /** How cases ended, by kind: 'response', 'closed' (no bytes back), 'aborted' (by the fuzzer). */
  outcomes: Record<string, number>;
  /** Responses by status code. */
  statuses: Record<string, number>;
  findings: Finding[];
}

export const CASE_KINDS = [
  'random-bytes',
  'tls-hello',
  'truncated',
  'reordered',
  'mutated-headers',
  'header-injection',
  'split-writes',
  'chunked-split',
  'disconnect-mid-request',
  'disconnect-mid-response',
  'pipelined',
] as const;
export type CaseKind = (typeof CASE_KINDS)[number];

// ---------------------------------------------------------------------------------------------
// Cases

/** What a case sends and how it ends its side. */
interface Plan {
  kind: CaseKind;
  /** Pieces written one after another (a short pause between some). */
  writes: Buffer[];
  pauseMs: number;
  /** 'end': half-close after writing; 'wait': keep open for the answer, half-closing after
   *  `GRACE_MS` without one (a request the server still waits on must not cost its idle timeout);
   *  'destroy': drop the connection after writing; 'cut-response': drop it once `cutAfterBytes`
   *  came back. */
  finish: 'end' | 'wait' | 'destroy' | 'cut-response';
  cutAfterBytes?: number;
  /** The request is valid and sent whole: a status outside 2xx (304 aside) is a finding. */
  expectSuccess: boolean;
  /** The method of the (last) request, so a HEAD answer is known to have no body. */
  method: string;
}

/** How long a 'wait' case waits for an answer before it half-closes its side. */
const GRACE_MS = 300;

const TLS_CLIENT_HELLO = Buffer.from(
  '160301005a0100005603035b8f3c7e8f1f0a1d2c3b4a5968778695a4b3c2d1e0f1f2f3f4f5f6f7f8f9fafb00002c' +
    'c02bc02fc02cc030cca9cca8c009c013c00ac014009c009d002f0035000a01000001ff0100010000000a',
  'hex',
);
function splitInto(rng: Rng, bytes: Buffer, maxPieces: number): Buffer[] {
  const pieces: Buffer[] = [];
  let start = 0;
  for (const cut of [...rng.cuts(bytes.length, rng.int(maxPieces)), bytes.length]) {
    pieces.push(bytes.subarray(start, cut));
    start = cut;
  }
  return pieces;
}

/** Builds case `index` of run `seed`: the same pair always builds the same bytes (dates aside). */
export async function planCase(
  seed: number,
  index: number,
  target: WireFuzzTarget,
  kinds: readonly CaseKind[],
): Promise<Plan> {
  const rng = new Rng(seed, index);
  const kind = rng.pick(kinds);
  const base = { kind, pauseMs: 0, expectSuccess: false, method: 'GET' } as const;
  switch (kind) {
    case 'random-bytes': {
      const bytes = rng.bytes(1 + rng.int(4096));
      // Now and then make it look like the start of a request line.
      if (rng.chance(0.3))
        bytes.write(
          rng.pick(['GET / HTTP/1.1\r\n', 'PUT /', 'POST /x HTTP/1.1\r\nHost: ']),
          0,
          'latin1',
        );
      return { ...base, writes: [bytes], finish: 'wait' };
    }
    case 'tls-hello':
      return { ...base, writes: [TLS_CLIENT_HELLO], finish: 'wait' };
    case 'truncated': {
      const bytes = serialize(await validRequest(rng, target));
      return { ...base, writes: [bytes.subarray(0, rng.int(bytes.length))], finish: 'end' };
    }
    case 'reordered': {
      const req = await validRequest(rng, target);
      const lines = [...req.lines];
      for (let i = lines.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? ''];
      }
      const body = rng.chance(0.3) ? Buffer.alloc(0) : req.body;
      const bytes = rng.chance(0.2)
        ? Buffer.concat([req.body, Buffer.from(`${req.lines.join('\r\n')}\r\n\r\n`)])
        : serialize({ ...req, lines, body });
      return { ...base, writes: [bytes], finish: 'wait', method: req.method };
    }
    case 'mutated-headers': {
      const req = mutateHeaders(rng, await validRequest(rng, target));
      return { ...base, writes: [serialize(req)], finish: 'wait', method: req.method };
    }
    case 'header-injection': {
      const req = await injectionRequest(rng, target);
      return { ...base, writes: [serialize(req)], finish: 'wait', method: 'GET' };
    }
    case 'split-writes': {
      const req = await validRequest(rng, target);
      const bytes = serialize(req);
      return {
        ...base,
        writes: splitInto(rng, bytes, 12),
        pauseMs: rng.int(3),
        finish: 'wait',
        expectSuccess: true,
        method: req.method,
      };
    }
    case 'chunked-split': {
      const req = await chunkedPut(rng, target);
      const bytes = serialize(req);
      return {
        ...base,
        writes: splitInto(rng, bytes, 24),
        pauseMs: rng.int(3),
        finish: 'wait',
        expectSuccess: true,
        method: 'PUT',
      };
    }
    case 'disconnect-mid-request': {
      const req = await validRequest(rng, target);
      const bytes = serialize(req);
      return {
        ...base,
        writes: splitInto(rng, bytes.subarray(0, rng.int(bytes.length)), 4),
        finish: 'destroy',
        method: req.method,
      };
    }
    case 'disconnect-mid-response': {
      const req = await signed(
        target.port,
        'GET',
        `/${target.keepBucket}/${target.keepKey}`,
        Buffer.alloc(0),
      );
      return {
        ...base,
        writes: [serialize(req)],
        finish: 'cut-response',
        cutAfterBytes: 1 + rng.int(Math.max(1, target.keepBytes)),
        method: 'GET',
      };
    }
    case 'pipelined': {
      const first = await validRequest(rng, target);
      // Keep-alive for the first, so the second is read from the same connection.
      const keepAlive = { ...first, lines: first.lines.filter((l) => l !== 'connection: close') };
      const second = rng.chance(0.5)
        ? serialize(await validRequest(rng, target))
        : rng.bytes(1 + rng.int(512));
      return {
        ...base,
        writes: [Buffer.concat([serialize(keepAlive), second])],
        finish: 'wait',
        method: first.method,
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Running a case

interface Outcome {
  how: 'response' | 'closed' | 'aborted' | 'timeout';
  status: number | null;
  head: string;
  received: Buffer;
}

/** Whether `data` holds one complete HTTP response (head, then Content-Length or chunked body). */
function responseComplete(data: Buffer, method: string): { status: number; head: string } | null {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = data.subarray(0, end).toString('latin1');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
  const bodyBytes = data.length - end - 4;
  if (method === 'HEAD' || status === 204 || status === 304) return { status, head };
  if (length !== undefined) return bodyBytes >= Number(length) ? { status, head } : null;
  if (/\r\ntransfer-encoding: *chunked/i.test(head))
    return data.subarray(end + 4).includes('0\r\n\r\n') ? { status, head } : null;
  return null;
}

function runPlan(port: number, plan: Plan, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const settle = (how: Outcome['how']): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const data = Buffer.concat(chunks);
      const parsed = responseComplete(data, plan.method);
      const statusText = /^HTTP\/1\.[01] (\d{3})/.exec(
        data.subarray(0, 16).toString('latin1'),
      )?.[1];
      resolve({
        how,
        status: parsed?.status ?? (statusText === undefined ? null : Number(statusText)),
        head: parsed?.head ?? data.subarray(0, 2048).toString('latin1'),
        received: data,
      });
    };
    const timer = setTimeout(() => settle('timeout'), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (plan.finish === 'cut-response' && received >= (plan.cutAfterBytes ?? 0))
        settle('aborted');
      else if (
        responseComplete(Buffer.concat(chunks), plan.method) !== null &&
        plan.finish === 'wait'
      )
        settle('response');
    });
    socket.on('error', () => settle(received > 0 ? 'response' : 'closed'));
    socket.on('close', () => settle(received > 0 ? 'response' : 'closed'));
    socket.on('connect', () => {
      void writeAll(socket, plan).then(() => {
        if (plan.finish === 'end') socket.end();
        else if (plan.finish === 'destroy') settle('aborted');
        // A valid request is owed its answer however slow a loaded server is (it ends with
        // Connection: close); only a request the server may still be waiting on gets the grace.
        else if (plan.finish === 'wait' && !plan.expectSuccess)
          setTimeout(() => socket.end(), GRACE_MS).unref();
      });
    });
  });
}

async function writeAll(socket: Socket, plan: Plan): Promise<void> {
  for (const piece of plan.writes) {
    if (socket.destroyed) return;
    await new Promise<void>((resolve) => socket.write(piece, () => resolve()));
    if (plan.pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, plan.pauseMs));
  }
}

function printable(bytes: Buffer, max = 300): string {
  return bytes
    .subarray(0, max)
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, (c) =>
      c === '\r'
        ? '\\r'
        : c === '\n'
          ? '\\n'
          : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
    );
}

/** What is wrong with an outcome, if anything. */
function problemOf(plan: Plan, outcome: Outcome): string | undefined {
  if (outcome.how === 'timeout')
    return 'neither a response nor a close within the case timeout (hang)';
  if (/\r\nx-fuzz-injected:/i.test(outcome.head))
    return 'a request value reached the response head as a header (response splitting)';
  if (outcome.status !== null && outcome.status >= 500 && outcome.status !== 503)
    return `answered ${outcome.status}`;
  if (plan.expectSuccess && outcome.how !== 'aborted') {
    const ok =
      outcome.status !== null &&
      ((outcome.status >= 200 && outcome.status < 300) || outcome.status === 304);
    if (!ok)
      return `a valid request split into ${plan.writes.length} writes was answered ${outcome.status ?? outcome.how}`;
  }
  return undefined;
}

/** Builds and runs one case; returns its finding, if any. */
export async function runCase(
  seed: number,
  index: number,
  target: WireFuzzTarget,
  options: Pick<WireFuzzOptions, 'caseTimeoutMs' | 'excludeKinds'>,
  tally?: (kind: CaseKind, outcome: Outcome) => void,
): Promise<Finding | undefined> {
  const kinds = CASE_KINDS.filter((kind) => !(options.excludeKinds ?? []).includes(kind));
  const plan = await planCase(seed, index, target, kinds);
  const outcome = await runPlan(target.port, plan, options.caseTimeoutMs);
  tally?.(plan.kind, outcome);
  const problem = problemOf(plan, outcome);
  if (problem === undefined) return undefined;
  return {
    seed,
    index,
    kind: plan.kind,
    problem,
    sent: printable(Buffer.concat(plan.writes)),
    received: printable(outcome.received),
  };
}

/** Runs cases with `concurrency` in flight until `maxCases` or the deadline. */
export async function fuzzWire(
  target: WireFuzzTarget,
  options: WireFuzzOptions,
): Promise<WireFuzzReport> {
  const started = Date.now();
  const report: WireFuzzReport = {
    seed: options.seed,
    cases: 0,
    elapsedMs: 0,
    byKind: {},
    outcomes: {},
    statuses: {},
    findings: [],
  };
  const tally = (kind: CaseKind, outcome: Outcome): void => {
    report.byKind[kind] = (report.byKind[kind] ?? 0) + 1;
    const how = `${kind} ${outcome.how}`;
    report.outcomes[how] = (report.outcomes[how] ?? 0) + 1;
    if (outcome.status !== null)
      report.statuses[outcome.status] = (report.statuses[outcome.status] ?? 0) + 1;
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < options.maxCases && Date.now() < options.deadlineMs) {
      const index = next++;
      const finding = await runCase(options.seed, index, target, options, tally);
      report.cases++;
      if (finding !== undefined) report.findings.push(finding);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  report.elapsedMs = Date.now() - started;
  return report;
}

/** Lines of the server log that betray a bug: assertions, uncaught errors, internal errors. */
export function logProblems(log: string): string[] {
  return log
    .split('\n')
    .filter((line) => /AssertionError|uncaught|unhandled|internal error|ERR_ASSERTION/i.test(line));
}
