/**
 * Listing merged across four shards: every page of small MaxKeys, with and without a delimiter,
 * V2 by continuation token and V1 by marker, walks exactly the sorted expected listing (UTF-8
 * byte order, non-ASCII keys included). With four shards most consecutive keys live on
 * different shards, so a merge that loses, repeats or misorders an entry between cursors shows.
 */
import {
  CreateBucketCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { useServer } from '../helpers/server.js';

const BUCKET = 'sharded';
const NAMES = ['a', 'b', 'é', '\uE000', '\uFFFD', '😀', 'z', 'Z'];
const KEYS: string[] = [];
for (const top of NAMES) {
  KEYS.push(top);
  for (const mid of NAMES.slice(0, 4)) KEYS.push(`${top}/${mid}`, `${top}/${mid}/leaf`);
}

const suite = useServer(test, { shards: 4 });

test.before(async () => {
  await suite.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await Promise.all(
    KEYS.map((key) => suite.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }))),
  );
});

const byBytes = (a: string, b: string): number =>
  Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

function expected(delimiter: string): string[] {
  const out = new Set<string>();
  for (const key of [...KEYS].sort(byBytes)) {
    const cut = delimiter === '' ? -1 : key.indexOf(delimiter);
    out.add(cut < 0 ? key : key.slice(0, cut + delimiter.length));
  }
  return [...out];
}

for (const maxKeys of [1, 2, 3, 7]) {
  for (const delimiter of ['', '/']) {
    test(`V2 over 4 shards, MaxKeys ${maxKeys}, delimiter '${delimiter}'`, async (t) => {
      const walked: string[] = [];
      let token: string | undefined;
      for (let page = 0; page < 1000; page++) {
        const out = await suite.s3.send(
          new ListObjectsV2Command({
            Bucket: BUCKET,
            MaxKeys: maxKeys,
            ...(delimiter !== '' ? { Delimiter: delimiter } : {}),
            ...(token !== undefined ? { ContinuationToken: token } : {}),
          }),
        );
        const entries = [
          ...(out.Contents ?? []).map((c) => c.Key as string),
          ...(out.CommonPrefixes ?? []).map((p) => p.Prefix as string),
        ].sort(byBytes);
        t.is(out.KeyCount, entries.length);
        t.true(entries.length <= maxKeys);
        walked.push(...entries);
        if (out.IsTruncated !== true) break;
        t.true(entries.length > 0, 'a truncated page is never empty');
        token = out.NextContinuationToken;
      }
      t.deepEqual(walked, expected(delimiter));
    });

    test(`V1 over 4 shards, MaxKeys ${maxKeys}, delimiter '${delimiter}'`, async (t) => {
      const walked: string[] = [];
      let marker: string | undefined;
      for (let page = 0; page < 1000; page++) {
        const out = await suite.s3.send(
          new ListObjectsCommand({
            Bucket: BUCKET,
            MaxKeys: maxKeys,
            ...(delimiter !== '' ? { Delimiter: delimiter } : {}),
            ...(marker !== undefined ? { Marker: marker } : {}),
          }),
        );
        const entries = [
          ...(out.Contents ?? []).map((c) => c.Key as string),
          ...(out.CommonPrefixes ?? []).map((p) => p.Prefix as string),
        ].sort(byBytes);
        walked.push(...entries);
        if (out.IsTruncated !== true) break;
        marker = out.NextMarker ?? entries[entries.length - 1];
      }
      t.deepEqual(walked, expected(delimiter));
    });
  }
}
