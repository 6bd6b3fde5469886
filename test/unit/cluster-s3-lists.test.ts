import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import test from 'ava';

/**
 * "One suite, two backends" (ava.cluster-s3.config.js): every S3 test file is either run against
 * cluster mode too or named embedded-only with its reason, so a new file cannot be left out of
 * cluster mode silently, and a listed file cannot vanish without the list noticing.
 */

const ROOT = new URL('../../../', import.meta.url);

interface Lists {
  CLUSTER_S3_FILES: string[];
  EMBEDDED_ONLY: Record<string, string>;
}

async function lists(): Promise<Lists> {
  return (await import(new URL('ava.cluster-s3.config.js', ROOT).href)) as Lists;
}

test('every test/s3 file is in exactly one of the cluster and embedded-only lists', async (t) => {
  const { CLUSTER_S3_FILES, EMBEDDED_ONLY } = await lists();
  const s3Files = readdirSync(fileURLToPath(new URL('test/s3/', ROOT)))
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => `test/s3/${name}`);
  const cluster = new Set(CLUSTER_S3_FILES);
  const embedded = new Set(Object.keys(EMBEDDED_ONLY));
  t.deepEqual(
    s3Files.filter((file) => !cluster.has(file) && !embedded.has(file)),
    [],
    'files in neither list',
  );
  t.deepEqual(
    s3Files.filter((file) => cluster.has(file) && embedded.has(file)),
    [],
    'files in both lists',
  );
  t.true(s3Files.length > 50, `found ${s3Files.length} test/s3 files`);
});

test('every listed file exists, and every embedded-only one says why', async (t) => {
  const { CLUSTER_S3_FILES, EMBEDDED_ONLY } = await lists();
  const listed = [...CLUSTER_S3_FILES, ...Object.keys(EMBEDDED_ONLY)];
  t.deepEqual(
    listed.filter((file) => !existsSync(fileURLToPath(new URL(file, ROOT)))),
    [],
  );
  t.deepEqual(
    Object.entries(EMBEDDED_ONLY).filter(([, why]) => why.trim().length < 10),
    [],
  );
});
