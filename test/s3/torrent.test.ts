// GetObjectTorrent through the AWS SDK v3: the .torrent decodes, every SHA-1 piece matches the
// object's bytes, its web seed URL serves the object, a version's torrent is that version's, and
// SSE-KMS objects are refused as AWS refuses them.
import { createHash } from 'node:crypto';
import {
  GetObjectTorrentCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import test, { type ExecutionContext } from 'ava';
import { bdecode, type Decoded, entry } from '../helpers/bdecode.js';
import { newBucket, randomBytesSeeded, s3Failure, useServer } from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';
import { createKmsKey, putKms } from '../helpers/sse.js';
import { makePublicRead } from '../helpers/website.js';

const suite = useServer(test);

async function torrentOf(bucket: string, key: string): Promise<Decoded> {
  const out = await suite.s3.send(new GetObjectTorrentCommand({ Bucket: bucket, Key: key }));
  const body = out.Body as { transformToByteArray(): Promise<Uint8Array> };
  return bdecode(Buffer.from(await body.transformToByteArray()));
}

/** A torrent fetched by a signed request (the SDK's command has no VersionId). */
async function fetchTorrent(path: string): Promise<{ res: Response; torrent: Decoded }> {
  const res = await signedFetch(suite.server.endpoint, { method: 'GET', path });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { res, torrent: bdecode(bytes) };
}

/** Every piece hash of `torrent` against `body`, and the info fields. */
function checkPieces(t: ExecutionContext, torrent: Decoded, body: Buffer, name: string): void {
  const info = entry(torrent, 'info');
  t.is(entry(info, 'length'), BigInt(body.length));
  t.deepEqual(entry(info, 'name'), Buffer.from(name));
  const pieceBytes = Number(entry(info, 'piece length'));
  t.true(pieceBytes >= 16 * 1024 && (pieceBytes & (pieceBytes - 1)) === 0, 'a power of two');
  const pieces = entry(info, 'pieces') as Buffer;
  const count = Math.ceil(body.length / pieceBytes);
  t.is(pieces.length, 20 * count);
  for (let i = 0; i < count; i++) {
    const piece = body.subarray(i * pieceBytes, (i + 1) * pieceBytes);
    const sha1 = createHash('sha1').update(piece).digest();
    t.deepEqual(pieces.subarray(i * 20, i * 20 + 20), sha1, `piece ${i}`);
  }
}

function webSeedOf(torrent: Decoded): string {
  const list = entry(torrent, 'url-list') as Decoded[];
  return (list[0] as Buffer).toString('utf8');
}

test('a multi-piece object: every piece hash matches and the web seed serves it', async (t) => {
  const bucket = await newBucket(suite.s3, 'torrent');
  await makePublicRead(suite.s3, bucket);
  const body = randomBytesSeeded(700 * 1024 + 123, 18);
  await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'dir/big file.bin', Body: body }),
  );
  const torrent = await torrentOf(bucket, 'dir/big file.bin');
  checkPieces(t, torrent, body, 'big file.bin');
  t.true((entry(entry(torrent, 'info'), 'pieces') as Buffer).length >= 60, 'several pieces');
  const seed = webSeedOf(torrent);
  t.is(seed, `${suite.server.endpoint}/${bucket}/dir/big%20file.bin`);
  const fetched = await fetch(seed);
  t.is(fetched.status, 200);
  t.deepEqual(Buffer.from(await fetched.arrayBuffer()), body);
  // The second torrent comes from the piece cache: the same bytes.
  const again = await torrentOf(bucket, 'dir/big file.bin');
  t.deepEqual(again, torrent);
});

test('the torrent answers application/x-bittorrent', async (t) => {
  const bucket = await newBucket(suite.s3, 'torrent-ct');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'hello' }));
  const { res, torrent } = await fetchTorrent(`/${bucket}/k?torrent`);
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), 'application/x-bittorrent');
  checkPieces(t, torrent, Buffer.from('hello'), 'k');
});

test('a 0-byte object has a torrent with no pieces', async (t) => {
  const bucket = await newBucket(suite.s3, 'torrent-empty');
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'empty', Body: '' }));
  const torrent = await torrentOf(bucket, 'empty');
  checkPieces(t, torrent, Buffer.alloc(0), 'empty');
});

test('versionId picks the version the torrent describes', async (t) => {
  const bucket = await newBucket(suite.s3, 'torrent-ver');
  await suite.s3.send(
    new PutBucketVersioningCommand({
      Bucket: bucket,
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  const first = await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'v', Body: 'one' }),
  );
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'v', Body: 'second' }));
  const old = await fetchTorrent(`/${bucket}/v?torrent&versionId=${first.VersionId}`);
  t.is(old.res.headers.get('x-amz-version-id'), first.VersionId ?? null);
  checkPieces(t, old.torrent, Buffer.from('one'), 'v');
  t.true(webSeedOf(old.torrent).endsWith(`?versionId=${first.VersionId}`));
  checkPieces(t, await torrentOf(bucket, 'v'), Buffer.from('second'), 'v');
});

test('missing keys and SSE-KMS objects are refused', async (t) => {
  const bucket = await newBucket(suite.s3, 'torrent-err');
  const missing = await s3Failure(
    suite.s3.send(new GetObjectTorrentCommand({ Bucket: bucket, Key: 'nope' })),
  );
  t.is(missing.name, 'NoSuchKey');
  const kms = await createKmsKey(suite.server);
  await putKms(suite.s3, bucket, 'secret', 'kms body', kms.id);
  const refused = await s3Failure(
    suite.s3.send(new GetObjectTorrentCommand({ Bucket: bucket, Key: 'secret' })),
  );
  t.is(refused.name, 'InvalidRequest');
  t.is(refused.status, 400);
});
