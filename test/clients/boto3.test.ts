import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { boto3Env } from '../helpers/python.js';
import { useServer, useTempDir } from '../helpers/server.js';

/** The script lives beside this file's source (tsc does not copy it into dist/). */
const SCRIPT = fileURLToPath(new URL('../../../test/clients/boto3_client.py', import.meta.url));
const MiB = 1024 * 1024;

const suite = useServer(test);
const work = useTempDir(test, 'hangar-boto3-');

interface Observed {
  error?: string;
  boto3: string;
  bucketListed: boolean;
  put: { etag: string; md5: string; checksumCRC32: string | null };
  getSmallEqual: boolean;
  downloadEqual: boolean;
  headBig: { contentLength: number; etag: string; hasLastModified: boolean };
  headSmall: {
    contentLength: number;
    contentType: string;
    metadata: Record<string, string>;
    etag: string;
  };
  list: Array<[string, number]>;
  prefixes: string[];
  presignedGet: { code: number; stderr: string; equal: boolean };
  presignedPut: { code: number; stderr: string; equal?: boolean };
  deleted: string[];
  deleteErrors: unknown[];
  afterDeleteKeyCount: number;
  bucketGone: boolean;
  versioningStatus: string;
  versionIdsDistinct: boolean;
  versionsListed: number;
  markersListed: number;
  deleteBucketRefused: string | null;
  versionsAfterCleanup: number;
  versionedBucketGone: boolean;
}

/** Runs the boto3 script with the root key and an isolated AWS config; parses its JSON line. */
function runScript(bucket: string): Promise<{ code: number; observed: Observed; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'python3',
      [SCRIPT, suite.server.endpoint, bucket, work],
      {
        env: boto3Env(work),
        maxBuffer: 16 * MiB,
        timeout: 150_000,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        const line = stdout.trim().split('\n').pop() ?? '';
        let observed: Observed;
        try {
          observed = JSON.parse(line) as Observed;
        } catch {
          observed = { error: `no JSON from the script:\n${stdout}\n${stderr}` } as Observed;
        }
        resolve({ code, observed, stderr });
      },
    );
  });
}

test('boto3 with default checksums: objects, multipart, presigned URLs', async (t) => {
  t.timeout(180_000);
  const { code, observed: o, stderr } = await runScript('boto3-e2e');
  t.is(o.error, undefined, `${o.error ?? ''}\n${stderr}\nserver log:\n${suite.server.log}`);
  t.is(code, 0);

  t.true(o.bucketListed);
  t.is(o.put.etag, o.put.md5, 'put_object ETag is the quoted MD5');
  t.truthy(o.put.checksumCRC32, 'boto3 sends CRC32 by default and hangar echoes it');
  t.true(o.getSmallEqual);

  t.true(o.downloadEqual, '17 MiB multipart upload_file / download_file round trip');
  t.is(o.headBig.contentLength, 17 * MiB);
  t.regex(o.headBig.etag, /^"[0-9a-f]{32}-4"$/, 'multipart ETag: MD5 of part MD5s, 4 parts');
  t.true(o.headBig.hasLastModified);
  t.deepEqual(o.headSmall, {
    contentLength: 100_000,
    contentType: 'application/x-test',
    metadata: { owner: 'boto3' },
    etag: o.put.md5,
  });

  t.deepEqual(o.list, [
    ['big/seventeen.bin', 17 * MiB],
    ['small/obj.bin', 100_000],
  ]);
  t.deepEqual(o.prefixes, ['big/', 'small/']);

  t.is(o.presignedGet.code, 0, o.presignedGet.stderr);
  t.true(o.presignedGet.equal, 'presigned GET via curl returns the bytes');
  t.is(o.presignedPut.code, 0, o.presignedPut.stderr);
  t.true(o.presignedPut.equal, 'presigned PUT via curl stores the bytes');

  t.deepEqual(o.deleted, ['big/seventeen.bin', 'presigned/put.bin', 'small/obj.bin']);
  t.deepEqual(o.deleteErrors, []);
  t.is(o.afterDeleteKeyCount, 0);
  t.true(o.bucketGone);

  // A versioned bucket emptied with bucket.object_versions.delete() (ListObjectVersions +
  // DeleteObjects with VersionIds), as cleanup scripts and conformance suites do.
  t.is(o.versioningStatus, 'Enabled');
  t.true(o.versionIdsDistinct);
  t.is(o.versionsListed, 9);
  t.is(o.markersListed, 1);
  t.is(o.deleteBucketRefused, 'BucketNotEmpty');
  t.is(o.versionsAfterCleanup, 0);
  t.true(o.versionedBucketGone);
});
