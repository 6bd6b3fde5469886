import { PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { adminCall } from '../helpers/admin.js';
import {
  addRemote,
  eventually,
  headOrNone,
  replicateTo,
  ruleTo,
  setVersioning,
  statusBecomes,
} from '../helpers/replication.js';
import { newBucket, ROOT_ACCESS_KEY, ROOT_SECRET_KEY, TestServer } from '../helpers/server.js';

// The attempt bound holds across restarts: a row's failed attempts are stored in its queue row,
// so a source restarted after its attempts are spent settles the row FAILED on the next failure
// instead of granting it a fresh set.

const ROOT = { accessKeyId: ROOT_ACCESS_KEY, secretAccessKey: ROOT_SECRET_KEY };
const EXPECTED = [/replication attempt failed/];

let source: TestServer | undefined;
let destination: TestServer | undefined;

test.after.always(async () => {
  await source?.destroy();
  await destination?.destroy();
});

/** The source's count of failed attempts, from /metrics. */
async function failedAttempts(server: TestServer): Promise<number> {
  const { text } = await adminCall(server, 'GET', '/metrics');
  const line = /^hangar_replication_attempt_failures_total\{[^}]*\} (\d+)$/m.exec(text);
  return Number(line?.[1] ?? 0);
}

test('failed attempts survive a kill -9: the bound is not granted afresh', async (t) => {
  destination = await TestServer.start({ shards: 1 });
  source = await TestServer.start({
    shards: 2,
    env: {
      HANGAR_REPLICATION_BACKOFF_BASE_MS: '50',
      HANGAR_REPLICATION_BACKOFF_MAX_MS: '100',
      HANGAR_REPLICATION_ATTEMPTS_MAX: '1000',
      HANGAR_REPLICATION_POLL_MS: '50',
    },
    expectedLogErrors: EXPECTED,
  });
  const src = source.client();
  const from = await newBucket(src, 'attempts-src');
  // A destination bucket that does not exist: every attempt fails.
  const to = `attempts-dst-${process.pid}`;
  await setVersioning(src, from);
  await addRemote(source, `remote-${to}`, destination.endpoint, [to], ROOT);
  await replicateTo(src, from, [ruleTo(to)]);
  await src.send(new PutObjectCommand({ Bucket: from, Key: 'refused', Body: 'no' }));
  const tried = source;
  await eventually('five failed attempts', async () =>
    (await failedAttempts(tried)) >= 5 ? true : undefined,
  );
  t.is((await headOrNone(src, from, 'refused'))?.ReplicationStatus, 'PENDING');
  await source.kill();

  // Restarted with a bound the row has already spent, and a retry delay of a minute: only a
  // stored count makes the first failure after the restart the last one (an in-memory count
  // would start at 1 and wait a minute before its second try).
  source = await TestServer.start({
    shards: 2,
    dataDir: source.dataDir,
    env: {
      HANGAR_REPLICATION_BACKOFF_BASE_MS: '60000',
      HANGAR_REPLICATION_BACKOFF_MAX_MS: '60000',
      HANGAR_REPLICATION_ATTEMPTS_MAX: '3',
      HANGAR_REPLICATION_POLL_MS: '50',
    },
    expectedLogErrors: EXPECTED,
  });
  const restarted = source.client();
  await statusBecomes(restarted, from, 'refused', 'FAILED', 15_000);
  t.is(await failedAttempts(source), 1, 'one attempt after the restart settled it');
});
