import test from 'ava';
import { pino } from 'pino';
import type { ShardClient } from '../../engine/pool/shard-client.js';
import { PeriodicJob } from '../../engine/workers/periodic.js';
import { ShardQueueLoop } from '../../http/shard-queue-loop.js';

/**
 * The gate cluster mode puts on singleton workers (http/cluster-boot.ts runWhileLeading): no
 * scheduled pass while the gateway does not lead the job, a run in progress told to stop when
 * leadership goes, passes again once it comes back. Embedded workers are never gated.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a gated PeriodicJob runs on schedule only while it leads; runNow is not gated', async (t) => {
  let leading = false;
  let runs = 0;
  const job = new PeriodicJob(20, async () => {
    runs++;
  });
  job.gate(() => leading);
  job.start({ runNow: true });
  await sleep(120);
  t.is(runs, 0, 'no run while another gateway leads');
  t.true(job.stopped, 'a long run would end at its next batch');
  await job.runNow();
  t.is(runs, 1, "an operator's ask runs anyway");
  leading = true;
  t.false(job.stopped);
  for (let waited = 0; runs < 3 && waited < 5000; waited += 10) await sleep(10);
  t.true(runs >= 3, `runs once leading: ${runs}`);
  leading = false;
  await sleep(40);
  const after = runs;
  await sleep(120);
  t.is(runs, after, 'none after leadership went');
  await job.stop();
  t.true(job.stopped);
});

test('an ungated PeriodicJob runs as it always has', async (t) => {
  let runs = 0;
  const job = new PeriodicJob(20, async () => {
    runs++;
  });
  job.start({ runNow: true });
  for (let waited = 0; runs < 2 && waited < 5000; waited += 10) await sleep(10);
  t.true(runs >= 2);
  t.false(job.stopped);
  await job.stop();
});

test('a gated ShardQueueLoop passes over its shards only while it leads; wake starts it', async (t) => {
  let leading = false;
  let passes = 0;
  const loop = new ShardQueueLoop({
    shards: [{} as ShardClient],
    pass: async () => {
      passes++;
      return false;
    },
    idleWaitMs: () => 10_000,
    afterRound: () => {},
    logger: pino({ level: 'silent' }),
    failure: 'test pass failed',
  });
  loop.gate(() => leading);
  loop.start();
  await sleep(50);
  t.is(passes, 0);
  leading = true;
  loop.wake();
  await sleep(50);
  t.is(passes, 1, 'woken at once, not after the idle wait');
  await loop.stop();
});
