import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { Daemon, freePort } from '../helpers/daemon.js';
import { scopedBucket } from '../helpers/scoped.js';
import { randomBytesSeeded, TestServer } from '../helpers/server.js';
import { MiB } from '../helpers/tree.js';

// The distribution registry (Debian's docker-registry 2.8, aws-sdk-go v1) with its s3 storage
// driver on hangar, driven through the registry HTTP API V2 with plain fetch calls, as `docker push`
// and `docker pull` would. The driver writes every blob upload as S3 multipart uploads it resumes
// across PATCH requests (ListMultipartUploads, ListParts, UploadPartCopy, GetObject of the partial
// object), moves the finished upload into place with a server-side copy (ranged UploadPartCopy
// above multipartcopythresholdsize), and lists prefixes for tags and the catalog.

const REGISTRY = '/usr/bin/docker-registry';
const BUCKET = 'registry-store';
const ROOT_DIR = '/registry';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

let server: TestServer;
let registry: Daemon | undefined;
let work: string;
let base: string;
let credentials: { accessKeyId: string; secretAccessKey: string };

test.before(async () => {
  server = await TestServer.start();
  work = mkdtempSync(join(tmpdir(), 'hangar-registry-'));
  credentials = await scopedBucket(server, BUCKET);
  if (!existsSync(REGISTRY)) return;
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const config = join(work, 'config.yml');
  // regionendpoint makes 2.8's driver path-style. chunksize is the driver's multipart part size
  // (its 5 MiB minimum); multipartcopythresholdsize at that minimum makes the move of a >5 MiB
  // upload into place a multipart copy of 5 MiB ranges rather than one CopyObject.
  writeFileSync(
    config,
    `version: 0.1
log:
  level: debug
  accesslog:
    disabled: true
storage:
  s3:
    region: us-east-1
    regionendpoint: ${server.endpoint}
    bucket: ${BUCKET}
    accesskey: ${credentials.accessKeyId}
    secretkey: ${credentials.secretAccessKey}
    secure: false
    v4auth: true
    chunksize: ${5 * MiB}
    multipartcopychunksize: ${5 * MiB}
    multipartcopythresholdsize: ${5 * MiB}
    rootdirectory: ${ROOT_DIR}
  redirect:
    disable: true
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:${port}
  secret: hangar-registry-test-secret
`,
  );
  // AWS_CA_BUNDLE (or any AWS_* variable) must not reach it: aws-sdk-go refuses a custom CA
  // bundle on a plain-HTTP endpoint. The environment is exactly HOME (+ PATH).
  registry = await Daemon.start(
    REGISTRY,
    ['serve', config],
    { HOME: work },
    /listening on 127\.0\.0\.1/,
  );
});
test.after.always(async () => {
  await registry?.stop();
  await server?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

const sha256 = (bytes: Uint8Array): string =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A request to the registry; the body comes back whole (blobs here are at most a few MiB). */
async function call(
  method: string,
  url: string,
  body?: Uint8Array,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const response = await fetch(new URL(url, base), {
    method,
    headers,
    redirect: 'manual',
    ...(body === undefined ? {} : { body }),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: Buffer.from(await response.arrayBuffer()),
  };
}

function context(what: string, response: { status: number; body: Buffer }): string {
  return `${what}: HTTP ${response.status} ${response.body.toString().slice(0, 2000)}\nregistry log (tail):\n${registry?.log.slice(-8000)}\nhangar log:\n${server.log.slice(-4000)}`;
}

/** Starts an upload session; returns its Location (absolute or relative to the registry). */
async function startUpload(repo: string): Promise<string> {
  const started = await call('POST', `/v2/${repo}/blobs/uploads/`);
  if (started.status !== 202) throw new Error(context('POST blobs/uploads/', started));
  const location = started.headers.get('location');
  if (!location) throw new Error('no Location on 202');
  return location;
}

function withDigest(location: string, digest: string): string {
  const url = new URL(location, base);
  url.searchParams.set('digest', digest);
  return url.toString();
}

/** Monolithic: POST, then one PUT ?digest= carrying every byte. */
async function pushMonolithic(repo: string, blob: Buffer): Promise<string> {
  const location = await startUpload(repo);
  const digest = sha256(blob);
  const put = await call('PUT', withDigest(location, digest), blob, {
    'content-type': 'application/octet-stream',
  });
  if (put.status !== 201) throw new Error(context(`PUT monolithic ${digest}`, put));
  if (put.headers.get('docker-content-digest') !== digest) throw new Error('digest header');
  return digest;
}

/**
 * Chunked: POST, a PATCH per chunk (Content-Range, the Range the registry reports checked after
 * each), then PUT ?digest= with `tail` (possibly empty) as the last bytes.
 */
async function pushChunked(
  repo: string,
  blob: Buffer,
  chunkBytes: number,
  tailBytes: number,
): Promise<string> {
  let location = await startUpload(repo);
  const digest = sha256(blob);
  const end = blob.length - tailBytes;
  for (let offset = 0; offset < end; offset += chunkBytes) {
    const chunk = blob.subarray(offset, Math.min(end, offset + chunkBytes));
    const patch = await call('PATCH', location, chunk, {
      'content-type': 'application/octet-stream',
      'content-range': `${offset}-${offset + chunk.length - 1}`,
    });
    if (patch.status !== 202) throw new Error(context(`PATCH ${offset}+${chunk.length}`, patch));
    if (patch.headers.get('range') !== `0-${offset + chunk.length - 1}`)
      throw new Error(context(`PATCH Range ${patch.headers.get('range')}`, patch));
    location = patch.headers.get('location') ?? location;
  }
  const status = await call('GET', location);
  if (status.status !== 204 || status.headers.get('range') !== `0-${end - 1}`)
    throw new Error(context(`GET upload status (Range ${status.headers.get('range')})`, status));
  const put = await call('PUT', withDigest(location, digest), blob.subarray(end), {
    'content-type': 'application/octet-stream',
  });
  if (put.status !== 201) throw new Error(context(`PUT chunked ${digest}`, put));
  return digest;
}

test('docker-registry s3 driver on hangar: push blobs and manifests over the V2 API, pull them back', async (t) => {
  t.timeout(240_000);
  if (!registry) {
    t.fail(`${REGISTRY} is not installed (.ci/run installs Debian's docker-registry)`);
    return;
  }
  const repo = 'hangar/e2e-app';
  const version = await call('GET', '/v2/');
  t.is(version.status, 200);
  t.is(version.headers.get('docker-distribution-api-version'), 'registry/2.0');

  // Layer 1: 6 MiB + 123 bytes of random bytes, in 2 MiB PATCH chunks with the last 123 bytes in
  // the PUT. Layer 2: 300 KiB in one PATCH and an empty PUT. Config: a monolithic PUT.
  const bigLayer = Buffer.concat([randomBytesSeeded(6 * MiB, 91), randomBytesSeeded(123, 92)]);
  const smallLayer = randomBytesSeeded(300 * 1024, 93);
  const bigDigest = await pushChunked(repo, bigLayer, 2 * MiB, 123);
  const smallDigest = await pushChunked(repo, smallLayer, smallLayer.length, 0);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/bin'], Cmd: ['/bin/true'] },
      rootfs: { type: 'layers', diff_ids: [bigDigest, smallDigest] },
      history: [{ created_by: 'hangar registry test' }],
    }),
  );
  const configDigest = await pushMonolithic(repo, config);
  const blobs = new Map<string, Buffer>([
    [bigDigest, bigLayer],
    [smallDigest, smallLayer],
    [configDigest, config],
  ]);

  // A blob pushed again is already there: HEAD says so (what docker push asks before uploading).
  for (const [digest, blob] of blobs) {
    const head = await call('HEAD', `/v2/${repo}/blobs/${digest}`);
    t.is(head.status, 200, context(`HEAD ${digest}`, head));
    t.is(head.headers.get('content-length'), String(blob.length));
    t.is(head.headers.get('docker-content-digest'), digest);
  }
  t.is((await call('HEAD', `/v2/${repo}/blobs/${sha256(Buffer.from('absent'))}`)).status, 404);

  const layers = [
    { digest: bigDigest, size: bigLayer.length },
    { digest: smallDigest, size: smallLayer.length },
  ];
  const dockerManifest = Buffer.from(
    JSON.stringify(
      {
        schemaVersion: 2,
        mediaType: DOCKER_MANIFEST,
        config: {
          mediaType: 'application/vnd.docker.container.image.v1+json',
          size: config.length,
          digest: configDigest,
        },
        layers: layers.map((l) => ({
          mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
          ...l,
        })),
      },
      null,
      3,
    ),
  );
  const ociManifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        size: config.length,
        digest: configDigest,
      },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...l })),
    }),
  );
  const manifests: Array<[string, string, Buffer]> = [
    ['v1', DOCKER_MANIFEST, dockerManifest],
    ['v1-oci', OCI_MANIFEST, ociManifest],
  ];
  for (const [tag, type, manifest] of manifests) {
    const put = await call('PUT', `/v2/${repo}/manifests/${tag}`, manifest, {
      'content-type': type,
    });
    t.is(put.status, 201, context(`PUT manifest ${tag}`, put));
    t.is(put.headers.get('docker-content-digest'), sha256(manifest));
  }

  // Cross-repository mount (docker push of a second image sharing a layer): no bytes move.
  const mount = await call(
    'POST',
    `/v2/hangar/other/blobs/uploads/?mount=${bigDigest}&from=${encodeURIComponent(repo)}`,
  );
  t.is(mount.status, 201, context('mount', mount));
  const mounted = await call('GET', `/v2/hangar/other/blobs/${bigDigest}`);
  t.is(mounted.status, 200);
  t.true(mounted.body.equals(bigLayer), 'mounted blob is byte-identical');

  // Pull: the manifests by tag and by digest, byte-identical to what was pushed.
  for (const [tag, type, manifest] of manifests) {
    for (const reference of [tag, sha256(manifest)]) {
      const got = await call('GET', `/v2/${repo}/manifests/${reference}`, undefined, {
        accept: type,
      });
      t.is(got.status, 200, context(`GET manifest ${reference}`, got));
      t.is(got.headers.get('content-type'), type);
      t.is(got.headers.get('docker-content-digest'), sha256(manifest));
      t.true(got.body.equals(manifest), `manifest ${reference} is byte-identical`);
    }
  }
  // Every blob, whole and by range, verified by digest.
  for (const [digest, blob] of blobs) {
    const got = await call('GET', `/v2/${repo}/blobs/${digest}`);
    t.is(got.status, 200, context(`GET blob ${digest}`, got));
    t.is(sha256(got.body), digest);
    t.true(got.body.equals(blob));
  }
  const ranged = await call('GET', `/v2/${repo}/blobs/${bigDigest}`, undefined, {
    range: `bytes=${5 * MiB - 10}-${5 * MiB + 9}`,
  });
  t.is(ranged.status, 206, context('ranged GET', ranged));
  t.true(ranged.body.equals(bigLayer.subarray(5 * MiB - 10, 5 * MiB + 10)));

  // Listings: tags of the repository and the catalog of repositories.
  const tags = await call('GET', `/v2/${repo}/tags/list`);
  t.is(tags.status, 200, context('tags/list', tags));
  const tagList = JSON.parse(tags.body.toString()) as { name: string; tags: string[] };
  t.deepEqual(
    { ...tagList, tags: [...tagList.tags].sort() },
    { name: repo, tags: ['v1', 'v1-oci'] },
  );
  const catalog = await call('GET', '/v2/_catalog');
  t.is(catalog.status, 200, context('_catalog', catalog));
  t.deepEqual(JSON.parse(catalog.body.toString()), {
    repositories: ['hangar/e2e-app', 'hangar/other'],
  });

  // The bucket as the registry left it, seen with the registry's own key: each blob's data object
  // holds exactly its bytes, no upload directory is left, no multipart upload is left open.
  const s3 = server.client(credentials);
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.NextContinuationToken;
  } while (token);
  for (const [digest, blob] of blobs) {
    const hex = digest.slice('sha256:'.length);
    const key = `${ROOT_DIR.slice(1)}/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`;
    t.true(keys.includes(key), `${key} in ${keys.join('\n')}`);
    const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const bytes = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
    t.true(bytes.equals(blob), `${key} is byte-identical`);
  }
  t.deepEqual(
    keys.filter((k) => k.includes('/_uploads/')),
    [],
  );
  const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  t.deepEqual(uploads.Uploads ?? [], []);
});
