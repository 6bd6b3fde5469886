/**
 * The long wire-fuzz run for before releases: `npm run fuzz -- --minutes N [--seed S]
 * [--concurrency C] [--all-kinds]`. Starts its own hangar on a temp dir (127.0.0.1 only), runs
 * test/helpers/fuzz-wire.ts until the time is up, then checks what the CI test checks (a signed
 * GET, the kept object, fsck, the server log) and prints the case count and every finding.
 * Exits 1 when anything was found. A development tool: it uses the test helpers (and their dev
 * dependencies), never shipped in the hangar binary.
 */

import { parseArgs } from 'node:util';
import { eventually, fsckReport } from '../test/helpers/fsck.js';
import { type CaseKind, fuzzWire, logProblems, prepareTarget } from '../test/helpers/fuzz-wire.js';
import { TestServer } from '../test/helpers/server.js';
import { signedFetch } from '../test/helpers/sign.js';

const KEEP_BYTES = 1_000_000;
const CASE_TIMEOUT_MS = 15_000;
/** Left out unless --all-kinds: kinds that exercise a known open bug (none today). */
const KNOWN_OPEN: readonly CaseKind[] = [];

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '5' },
      seed: { type: 'string' },
      concurrency: { type: 'string', default: '8' },
      'all-kinds': { type: 'boolean', default: false },
    },
  });
  const minutes = Number(values.minutes);
  const seed =
    values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  const concurrency = Number(values.concurrency);
  if (!(minutes > 0) || !Number.isInteger(seed) || !(concurrency >= 1)) {
    console.error('usage: npm run fuzz -- --minutes N [--seed S] [--concurrency C] [--all-kinds]');
    return 2;
  }
  console.log(`wire fuzz: ${minutes} min, seed ${seed}, concurrency ${concurrency}`);
  const server = await TestServer.start({ shards: 2 });
  try {
    const s3 = server.client();
    const { target, kept } = await prepareTarget(s3, server.port, seed, KEEP_BYTES);
    const report = await fuzzWire(target, {
      seed,
      maxCases: Number.POSITIVE_INFINITY,
      deadlineMs: Date.now() + minutes * 60_000,
      concurrency,
      caseTimeoutMs: CASE_TIMEOUT_MS,
      excludeKinds: values['all-kinds'] ? [] : KNOWN_OPEN,
    });
    const problems = [
      ...report.findings.map(
        (f) =>
          `case ${f.index} (${f.kind}): ${f.problem}\n  sent: ${f.sent}\n  received: ${f.received}`,
      ),
    ];
    const got = await signedFetch(server.endpoint, {
      method: 'GET',
      path: `/${target.keepBucket}/${target.keepKey}`,
    });
    const body = Buffer.from(await got.arrayBuffer());
    if (got.status !== 200 || !body.equals(kept))
      problems.push(
        `the kept object reads back ${got.status}, ${body.length} bytes, not as stored`,
      );
    await eventually(async () => {
      const live = await fsckReport(server.dataDir);
      return live.unreferencedBlocks.length === 0 && live.tempFiles === 0;
    });
    await server.stop();
    const fsck = await fsckReport(server.dataDir);
    const fsckProblems = [
      ...fsck.missingBlocks,
      ...fsck.unreferencedBlocks,
      ...fsck.refcountMismatches,
      ...fsck.counterMismatches,
    ];
    if (fsckProblems.length > 0 || fsck.tempFiles > 0)
      problems.push(`fsck: ${JSON.stringify(fsck)}`);
    problems.push(...logProblems(server.log).map((line) => `server log: ${line}`));
    console.log(`${report.cases} cases in ${Math.round(report.elapsedMs / 1000)} s (seed ${seed})`);
    console.log('outcomes:', report.outcomes);
    console.log('statuses:', report.statuses);
    console.log(
      problems.length === 0
        ? 'findings: none'
        : `findings (${problems.length}):\n${problems.join('\n')}`,
    );
    return problems.length === 0 ? 0 : 1;
  } finally {
    await server.destroy();
  }
}

process.exitCode = await main();
