import test from 'ava';
import { Gate } from '../../engine/blocks/rados/gate.js';

// The gate that bounds a RADOS block store's operations in flight (engine/limits.ts
// radosInFlightMax): never more than its width at once, waiters in arrival order, and a
// failed task frees its slot.

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

test('runs at most its width at once, the rest in arrival order', async (t) => {
  const gate = new Gate(2);
  const releases = Array.from({ length: 5 }, deferred);
  const started: number[] = [];
  let running = 0;
  let most = 0;
  const all = releases.map((release, i) =>
    gate.run(async () => {
      started.push(i);
      running++;
      most = Math.max(most, running);
      await release.promise;
      running--;
      return i;
    }),
  );
  await Promise.resolve();
  t.deepEqual(started, [0, 1]);
  releases[1]?.resolve();
  await new Promise((r) => setImmediate(r));
  t.deepEqual(started, [0, 1, 2]);
  for (const release of releases) release.resolve();
  t.deepEqual(await Promise.all(all), [0, 1, 2, 3, 4]);
  t.deepEqual(started, [0, 1, 2, 3, 4]);
  t.is(most, 2);
});

test('a failed task frees its slot, and drained waits for the last task', async (t) => {
  const gate = new Gate(1);
  await t.throwsAsync(
    gate.run(async () => {
      throw new Error('boom');
    }),
    { message: 'boom' },
  );
  const release = deferred();
  let finished = false;
  const running = gate.run(async () => {
    await release.promise;
    finished = true;
  });
  const drained = gate.drained().then(() => finished);
  release.resolve();
  await running;
  t.true(await drained);
  await gate.drained();
  t.pass();
});

test('a gate lets at least one task through', (t) => {
  t.throws(() => new Gate(0), { message: /some task/ });
});
