/**
 * The wire-level fuzzer against a live server (test/helpers/fuzz-wire.ts): thousands of random,
 * truncated, reordered, mutated, split and abandoned requests over raw sockets to 127.0.0.1,
 * bounded in count and time. Afterwards the server still serves, a known object is byte-identical,
 * `hangar fsck` is clean and the log holds no assertion, uncaught or internal error.
 * FUZZ_SEED=<n> replays a run; a failure prints its seed and the failing cases.
 */
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import test from 'ava';
import { eventually, fsckReport } from '../helpers/fsck.js';
import { type CaseKind, fuzzWire, logProblems, prepareTarget } from '../helpers/fuzz-wire.js';
import { newBucket, randomBytesSeeded, TestServer } from '../helpers/server.js';
import { rootSigner, signedFetch } from '../helpers/sign.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const CASES_MAX = 3000;
const RUN_MS_MAX = 60_000;
const CONCURRENCY = 8;
const CASE_TIMEOUT_MS = 15_000;
const KEEP_BYTES = 300_000;

/** Kinds left out of the CI run (none: every kind's bug is fixed). */
const EXCLUDED_KINDS: readonly CaseKind[] = [];

/** `promise`, or a rejection with `message` after `ms`: a wedged server fails the test, not the suite. */
async function withinMs<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

test.serial('the server survives the wire fuzzer whole', async (t) => {
  // Under ava's 3-minute inactivity timeout, whatever the load: the run itself stops at
  // RUN_MS_MAX plus one case timeout; the checks after it are bounded too.
  t.timeout(RUN_MS_MAX + 90_000);
  t.log(`wire fuzz seed ${SEED} (FUZZ_SEED=${SEED} replays it)`);
  // At once too, so that a run killed by a timeout still names its seed.
  process.stderr.write(`wire fuzz seed ${SEED} (FUZZ_SEED=${SEED} replays it)\n`);
  const server = await TestServer.start({ shards: 2 });
  try {
    const s3 = server.client();
    const { target, kept } = await prepareTarget(s3, server.port, SEED, KEEP_BYTES);

    const report = await fuzzWire(target, {
      seed: SEED,
      maxCases: CASES_MAX,
      deadlineMs: Date.now() + RUN_MS_MAX,
      concurrency: CONCURRENCY,
      caseTimeoutMs: CASE_TIMEOUT_MS,
      excludeKinds: EXCLUDED_KINDS,
    });
    t.log(`${report.cases} cases in ${report.elapsedMs} ms`, report.outcomes, report.statuses);
    t.true(report.cases >= 1000, `only ${report.cases} cases ran (seed ${SEED})`);
    t.deepEqual(report.findings, [], `wire fuzz findings (seed ${SEED})`);

    const got = await withinMs(
      signedFetch(server.endpoint, {
        method: 'GET',
        path: `/${target.keepBucket}/${target.keepKey}`,
      }),
      30_000,
      `the signed GET after the fuzzing did not answer in 30 s (seed ${SEED})`,
    );
    t.is(got.status, 200, `a signed GET still works (seed ${SEED})`);
    t.true(
      Buffer.from(await got.arrayBuffer()).equals(kept),
      `the known object is byte-identical (seed ${SEED})`,
    );

    // Freed blocks are unlinked just after the commits that free them, and a SIGTERM does not
    // wait for unlinks in flight: let them land before stopping, for an exact fsck.
    await eventually(async () => {
      const live = await fsckReport(server.dataDir);
      return live.unreferencedBlocks.length === 0 && live.tempFiles === 0;
    });
    await server.stop();
    const fsck = await fsckReport(server.dataDir);
    t.deepEqual(
      {
        missing: fsck.missingBlocks,
        unreferenced: fsck.unreferencedBlocks,
        refcounts: fsck.refcountMismatches,
        counters: fsck.counterMismatches,
        temp: fsck.tempFiles,
      },
      { missing: [], unreferenced: [], refcounts: [], counters: [], temp: 0 },
      `hangar fsck is clean (seed ${SEED})`,
    );
    t.deepEqual(logProblems(server.log), [], `the server log holds no error (seed ${SEED})`);
  } finally {
    await server.destroy();
  }
});

/** A PUT sent whole on a fresh connection that the client half-closes right after the body. */
async function putThenHangUp(server: TestServer, path: string, body: Buffer): Promise<void> {
  const signed = await rootSigner().sign({
    method: 'PUT',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: server.port,
    path,
    query: {},
    headers: {
      host: `127.0.0.1:${server.port}`,
      'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
      'content-length': String(body.length),
    },
  });
  const head = Object.entries(signed.headers).map(([name, value]) => `${name}: ${value}\r\n`);
  await new Promise<void>((resolve) => {
    const socket = connect(server.port, '127.0.0.1');
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.write(
      Buffer.concat([Buffer.from(`PUT ${path} HTTP/1.1\r\n${head.join('')}\r\n`), body]),
      () => socket.end(),
    );
  });
}

test.serial(
  'overwrites whose client hangs up after the last byte leak no block (fuzz finding)',
  async (t) => {
    // Found by the wire fuzzer (pipelined cases): the hang-up cancelled the shard session while
    // its commit ran, so each overwritten object's block stayed pinned and was never freed.
    const server = await TestServer.start({ shards: 1 });
    try {
      const bucket = await newBucket(server.client(), 'hangup');
      for (let i = 0; i < 12; i++) {
        await putThenHangUp(server, `/${bucket}/key-${i % 3}`, randomBytesSeeded(64 * 1024, i + 1));
      }
      // Freed blocks are unlinked just after the commit that frees them: wait for that, not for
      // the stop (a SIGTERM does not wait for unlinks in flight; the next start sweeps them).
      t.true(
        await eventually(
          async () => (await fsckReport(server.dataDir)).unreferencedBlocks.length === 0,
        ),
        'every overwritten block was freed',
      );
      await server.stop();
      const fsck = await fsckReport(server.dataDir);
      t.is(fsck.objects, 3);
      t.deepEqual(fsck.unreferencedBlocks, [], 'every overwritten block was freed');
      t.deepEqual(fsck.missingBlocks, []);
    } finally {
      await server.destroy();
    }
  },
);

test.serial(
  'an XML body with a <constructor> or <__proto__> element is MalformedXML (fuzz finding)',
  async (t) => {
    // Found by the XML property tests: fast-xml-parser throws a plain Error for these names after
    // its validator accepted the document, which answered 500 InternalError.
    const server = await TestServer.start({ shards: 1 });
    try {
      const bucket = await newBucket(server.client(), 'xml-names');
      for (const name of ['constructor', '__proto__']) {
        const body = Buffer.from(`<Tagging><TagSet><${name}>x</${name}></TagSet></Tagging>`);
        const md5 = createHash('md5').update(body).digest('base64');
        const answer = await signedFetch(server.endpoint, {
          method: 'PUT',
          path: `/${bucket}?tagging`,
          body,
          headers: { 'content-md5': md5 },
        });
        t.is(answer.status, 400, name);
        t.regex(await answer.text(), /<Code>MalformedXML<\/Code>/, name);
      }
      t.deepEqual(logProblems(server.log), []);
    } finally {
      await server.destroy();
    }
  },
);
