import {
  CreateBucketCommand,
  ListObjectsCommand,
  type ListObjectsCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import test, { type ExecutionContext } from 'ava';
import { ROOT_CANONICAL_ID } from '../../http/access/principal.js';
import { s3Failure, useServer } from '../helpers/server.js';

// ---- the data ----

/** dir{0..9}/sub{0..9}/file{0..29}: 3000 keys, unpadded so that byte order is not numeric order. */
const TREE_KEYS: string[] = [];
for (let d = 0; d < 10; d++) {
  for (let s = 0; s < 10; s++) {
    for (let f = 0; f < 30; f++) TREE_KEYS.push(`dir${d}/sub${s}/file${f}`);
  }
}

/** 1024 bytes of UTF-8 each: the longest keys S3 allows. */
const LONG_KEYS = [
  `long/${'x'.repeat(1019)}`,
  `long/${'é'.repeat(509)}y`,
  'é'.repeat(512),
  `long/${'x'.repeat(1018)}/`,
];

/** Top-level keys, including some whose UTF-16 order differs from their UTF-8 byte order. */
const TOP_KEYS = [
  'a',
  'b',
  'Z',
  '~tilde',
  'é',
  '\uFFFD',
  '\uE000',
  '😀',
  '😀/inside',
  'top0',
  'top1',
  'top10',
  'top2',
  'dir5', // an object named like a common prefix, without the delimiter
  'dir5/', // a "folder marker": the common prefix itself is an object
  'with space',
  'plus+sign',
];

const ALL_KEYS = sortUtf8([...TREE_KEYS, ...LONG_KEYS, ...TOP_KEYS]);

/** Keys that need encoding-type=url to travel in XML, or that an encoder could get wrong. */
const ENCODED_KEYS = sortUtf8([
  'enc/with space',
  'enc/ünïcödé',
  'enc/plus+sign',
  'enc/percent%20literal',
  'enc/amp&lt<gt>"quote\'',
  'enc/😀 astral',
  'enc/sub dir/inner',
  'enc/control\u0001char',
  'enc/new\nline',
  'enc/tab\there',
  'enc/slash/slash',
  'enc/question?hash#',
]);

const BUCKET = 'tree';
const ENC_BUCKET = 'encoded';

const suite = useServer(test);

test.before(async () => {
  await suite.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await suite.s3.send(new CreateBucketCommand({ Bucket: ENC_BUCKET }));
  await suite.s3.send(new CreateBucketCommand({ Bucket: 'empty' }));
  await putAll(BUCKET, ALL_KEYS, 32);
  await putAll(ENC_BUCKET, ENCODED_KEYS, 8);
});

// ---- helpers ----

function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(utf8(a), utf8(b));
}

function sortUtf8(keys: readonly string[]): string[] {
  return [...keys].sort(compareUtf8);
}

/** The body of an object: its own key, so that Size tells keys apart. */
async function putAll(bucket: string, keys: readonly string[], concurrency: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const key = keys[next++] as string;
      await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

interface Expected {
  keys: string[];
  prefixes: string[];
  /** keys and prefixes merged, in listing order */
  entries: string[];
}

/**
 * What S3 lists: the keys under `prefix` after `after` (byte order), those with `delimiter`
 * past the prefix rolled up into common prefixes. A common prefix equal to `after` is one a
 * previous page ended on (NextMarker or continuation token), so it is not repeated.
 */
function expected(keys: readonly string[], prefix = '', delimiter = '', after = ''): Expected {
  const out: Expected = { keys: [], prefixes: [], entries: [] };
  const seen = new Set<string>();
  for (const key of sortUtf8(keys)) {
    if (!key.startsWith(prefix) || compareUtf8(key, after) <= 0) continue;
    const cut = delimiter === '' ? -1 : key.indexOf(delimiter, prefix.length);
    if (cut < 0) {
      out.keys.push(key);
      out.entries.push(key);
      continue;
    }
    const common = key.slice(0, cut + delimiter.length);
    if (common === after || seen.has(common)) continue;
    seen.add(common);
    out.prefixes.push(common);
    out.entries.push(common);
  }
  return out;
}

interface Listed {
  Contents?: Array<{ Key?: string | undefined }> | undefined;
  CommonPrefixes?: Array<{ Prefix?: string | undefined }> | undefined;
}

function keysOf(page: Listed): string[] {
  return (page.Contents ?? []).map((object) => object.Key as string);
}

function prefixesOf(page: Listed): string[] {
  return (page.CommonPrefixes ?? []).map((common) => common.Prefix as string);
}

/** Keys and common prefixes of one page, merged into listing order. */
function entriesOf(page: Listed): string[] {
  return [...keysOf(page), ...prefixesOf(page)].sort(compareUtf8);
}

interface WalkOptions {
  bucket?: string;
  prefix?: string;
  delimiter?: string;
  maxKeys?: number;
  startAfter?: string;
}

/** Walks a ListObjectsV2 listing to its end, checking every page's bookkeeping on the way. */
async function walkV2(
  t: ExecutionContext,
  options: WalkOptions,
): Promise<{ keys: string[]; prefixes: string[]; entries: string[]; pages: number }> {
  const bucket = options.bucket ?? BUCKET;
  const keys: string[] = [];
  const prefixes: string[] = [];
  const entries: string[] = [];
  let token: string | undefined;
  let pages = 0;
  for (;;) {
    const page: ListObjectsV2CommandOutput = await suite.s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        ...(options.prefix !== undefined ? { Prefix: options.prefix } : {}),
        ...(options.delimiter !== undefined ? { Delimiter: options.delimiter } : {}),
        ...(options.maxKeys !== undefined ? { MaxKeys: options.maxKeys } : {}),
        ...(options.startAfter !== undefined ? { StartAfter: options.startAfter } : {}),
        ...(token !== undefined ? { ContinuationToken: token } : {}),
      }),
    );
    pages++;
    const where = `page ${pages}`;
    const pageEntries = entriesOf(page);
    t.is(page.Name, bucket, where);
    t.is(page.Prefix ?? '', options.prefix ?? '', where);
    t.is(page.Delimiter, options.delimiter, where);
    t.is(page.MaxKeys, options.maxKeys ?? 1000, where);
    t.is(page.StartAfter, options.startAfter, where);
    t.is(page.ContinuationToken, token, where);
    t.is(page.KeyCount, pageEntries.length, `${where}: KeyCount counts keys and prefixes`);
    t.true(pageEntries.length <= (options.maxKeys ?? 1000), where);
    // Each page in order, and in order after the previous page.
    t.deepEqual(
      [...keysOf(page)],
      sortUtf8(keysOf(page)),
      `${where}: Contents in UTF-8 byte order`,
    );
    keys.push(...keysOf(page));
    prefixes.push(...prefixesOf(page));
    entries.push(...pageEntries);
    if (page.IsTruncated !== true) {
      t.is(page.IsTruncated, false, where);
      t.is(page.NextContinuationToken, undefined, `${where}: no token on the last page`);
      break;
    }
    t.is(typeof page.NextContinuationToken, 'string', where);
    t.true(pageEntries.length > 0, `${where}: a truncated page is never empty`);
    token = page.NextContinuationToken;
    if (pages > 10_000) throw new Error('listing does not end');
  }
  return { keys, prefixes, entries, pages };
}

/** Walks a ListObjects (v1) listing: NextMarker with a delimiter, the last key without. */
async function walkV1(
  t: ExecutionContext,
  options: Omit<WalkOptions, 'startAfter'> & { marker?: string },
): Promise<{ keys: string[]; prefixes: string[]; entries: string[]; pages: number }> {
  const bucket = options.bucket ?? BUCKET;
  const keys: string[] = [];
  const prefixes: string[] = [];
  const entries: string[] = [];
  let marker = options.marker;
  let pages = 0;
  for (;;) {
    const page: ListObjectsCommandOutput = await suite.s3.send(
      new ListObjectsCommand({
        Bucket: bucket,
        ...(options.prefix !== undefined ? { Prefix: options.prefix } : {}),
        ...(options.delimiter !== undefined ? { Delimiter: options.delimiter } : {}),
        ...(options.maxKeys !== undefined ? { MaxKeys: options.maxKeys } : {}),
        ...(marker !== undefined ? { Marker: marker } : {}),
      }),
    );
    pages++;
    const where = `page ${pages}`;
    const pageEntries = entriesOf(page);
    t.is(page.Name, bucket, where);
    t.is(page.Prefix ?? '', options.prefix ?? '', where);
    t.is(page.Marker ?? '', marker ?? '', where);
    t.is(page.Delimiter, options.delimiter, where);
    t.is(page.MaxKeys, options.maxKeys ?? 1000, where);
    t.true(pageEntries.length <= (options.maxKeys ?? 1000), where);
    keys.push(...keysOf(page));
    prefixes.push(...prefixesOf(page));
    entries.push(...pageEntries);
    if (page.IsTruncated !== true) {
      t.is(page.IsTruncated, false, where);
      t.is(page.NextMarker, undefined, where);
      break;
    }
    t.true(pageEntries.length > 0, `${where}: a truncated page is never empty`);
    const last = pageEntries[pageEntries.length - 1];
    if (options.delimiter !== undefined) {
      // With a delimiter S3 names where to go on, the last key or common prefix of the page.
      t.is(page.NextMarker, last, `${where}: NextMarker`);
      marker = page.NextMarker;
    } else {
      // Without one there is no NextMarker: the client goes on from the last key.
      t.is(page.NextMarker, undefined, `${where}: no NextMarker without a delimiter`);
      marker = keysOf(page).at(-1);
    }
    if (pages > 10_000) throw new Error('listing does not end');
  }
  return { keys, prefixes, entries, pages };
}

/** The raw XML of a presigned GET, for what the SDK hides or rewrites. */
async function rawXml(command: ListObjectsV2Command | ListObjectsCommand): Promise<string> {
  const url = await getSignedUrl(suite.s3, command as ListObjectsV2Command, { expiresIn: 60 });
  const response = await fetch(url);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${text}`);
  return text;
}

function decodeS3Url(text: string): string {
  return decodeURIComponent(text.replace(/\+/g, ' '));
}

// ---- ListObjectsV2: full walks ----

for (const maxKeys of [1000, 137, 1]) {
  test(`ListObjectsV2 walks all ${ALL_KEYS.length} keys exactly with MaxKeys ${maxKeys}`, async (t) => {
    const walk = await walkV2(t, { maxKeys });
    t.deepEqual(walk.keys, ALL_KEYS);
    t.deepEqual(walk.prefixes, []);
    t.is(walk.pages, Math.ceil(ALL_KEYS.length / maxKeys));
  });
}

test('ListObjectsV2 without MaxKeys answers 1000 keys a page', async (t) => {
  const walk = await walkV2(t, {});
  t.deepEqual(walk.keys, ALL_KEYS);
  t.is(walk.pages, Math.ceil(ALL_KEYS.length / 1000));
});

test('ListObjectsV2 with MaxKeys above 1000 still answers at most 1000 keys', async (t) => {
  const page = await suite.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 5000 }));
  t.is(page.KeyCount, 1000);
  t.deepEqual(keysOf(page), ALL_KEYS.slice(0, 1000));
  t.true(page.IsTruncated);
  const rest = await suite.s3.send(
    new ListObjectsV2Command({
      Bucket: BUCKET,
      MaxKeys: 5000,
      ContinuationToken: page.NextContinuationToken as string,
    }),
  );
  t.deepEqual(keysOf(rest), ALL_KEYS.slice(1000, 2000));
});

test('ListObjectsV2 with a prefix walks exactly the keys under it', async (t) => {
  for (const [prefix, maxKeys] of [
    ['dir3/', 7],
    ['dir3/sub4/', 1000],
    ['dir3/sub4/file1', 3],
    ['long/', 1],
    ['d', 250],
    ['é', 1],
  ] as const) {
    const walk = await walkV2(t, { prefix, maxKeys });
    t.deepEqual(walk.keys, expected(ALL_KEYS, prefix).keys, prefix);
  }
  const exact = await walkV2(t, { prefix: 'dir3/sub4/file1' });
  t.deepEqual(exact.keys, [
    'dir3/sub4/file1',
    'dir3/sub4/file10',
    'dir3/sub4/file11',
    'dir3/sub4/file12',
    'dir3/sub4/file13',
    'dir3/sub4/file14',
    'dir3/sub4/file15',
    'dir3/sub4/file16',
    'dir3/sub4/file17',
    'dir3/sub4/file18',
    'dir3/sub4/file19',
  ]);
});

test('a page that exactly fills MaxKeys at the end of the listing is not truncated', async (t) => {
  const page = await suite.s3.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'dir3/sub4/', MaxKeys: 30 }),
  );
  t.is(page.KeyCount, 30);
  t.false(page.IsTruncated);
  t.is(page.NextContinuationToken, undefined);
  const rolled = expected(ALL_KEYS, '', '/');
  const top = await suite.s3.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Delimiter: '/', MaxKeys: rolled.entries.length }),
  );
  t.is(top.KeyCount, rolled.entries.length);
  t.false(top.IsTruncated);
  const short = await suite.s3.send(
    new ListObjectsV2Command({
      Bucket: BUCKET,
      Delimiter: '/',
      MaxKeys: rolled.entries.length - 1,
    }),
  );
  t.true(short.IsTruncated);
});

test('a prefix that matches nothing lists nothing, in v2 and v1', async (t) => {
  for (const prefix of ['nothing/', 'dir3/sub4/file3x', 'dir99', 'zzzz', '\u{10FFFF}']) {
    const v2 = await suite.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
    t.is(v2.KeyCount, 0, prefix);
    t.is(v2.Contents, undefined, prefix);
    t.is(v2.CommonPrefixes, undefined, prefix);
    t.false(v2.IsTruncated, prefix);
    t.is(v2.Prefix, prefix);
    const v1 = await suite.s3.send(
      new ListObjectsCommand({ Bucket: BUCKET, Prefix: prefix, Delimiter: '/' }),
    );
    t.is(v1.Contents, undefined, prefix);
    t.is(v1.CommonPrefixes, undefined, prefix);
    t.false(v1.IsTruncated, prefix);
  }
  const empty = await suite.s3.send(new ListObjectsV2Command({ Bucket: 'empty' }));
  t.is(empty.KeyCount, 0);
  t.false(empty.IsTruncated);
  t.is(empty.Contents, undefined);
});

// ---- delimiter ----

test('ListObjectsV2 with delimiter / rolls the tree up into CommonPrefixes', async (t) => {
  const page = await suite.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Delimiter: '/' }));
  const want = expected(ALL_KEYS, '', '/');
  t.deepEqual(prefixesOf(page), [
    'dir0/',
    'dir1/',
    'dir2/',
    'dir3/',
    'dir4/',
    'dir5/',
    'dir6/',
    'dir7/',
    'dir8/',
    'dir9/',
    'long/',
    '😀/',
  ]);
  t.deepEqual(prefixesOf(page), want.prefixes);
  t.deepEqual(keysOf(page), want.keys);
  t.true(keysOf(page).includes('dir5'), "the object 'dir5' is a key, not a prefix");
  t.false(keysOf(page).includes('dir5/'), "the object 'dir5/' is rolled up into 'dir5/'");
  t.is(page.KeyCount, want.entries.length);
  t.is(page.Delimiter, '/');
  t.false(page.IsTruncated);
});

test('ListObjectsV2 with delimiter and prefix lists one level of the tree', async (t) => {
  const sub = await suite.s3.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'dir3/', Delimiter: '/' }),
  );
  t.deepEqual(
    prefixesOf(sub),
    Array.from({ length: 10 }, (_, s) => `dir3/sub${s}/`),
  );
  t.deepEqual(keysOf(sub), []);
  t.is(sub.KeyCount, 10);

  const leaf = await suite.s3.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'dir3/sub4/', Delimiter: '/' }),
  );
  t.deepEqual(prefixesOf(leaf), []);
  t.deepEqual(keysOf(leaf), expected(ALL_KEYS, 'dir3/sub4/').keys);
  t.is(leaf.KeyCount, 30);

  // The folder marker 'dir5/' is a key when it is the prefix itself.
  const marker = await suite.s3.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'dir5/', Delimiter: '/' }),
  );
  t.deepEqual(keysOf(marker), ['dir5/']);
  t.is(prefixesOf(marker).length, 10);

  // A prefix that does not end at a delimiter.
  const partial = await suite.s3.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'dir', Delimiter: '/' }),
  );
  t.deepEqual(keysOf(partial), ['dir5']);
  t.deepEqual(prefixesOf(partial), expected(ALL_KEYS, 'dir', '/').prefixes);
  t.is(prefixesOf(partial).length, 10);

  // A delimiter other than '/'.
  const byE = await walkV2(t, { prefix: 'dir7/sub7/', delimiter: 'e', maxKeys: 1 });
  t.deepEqual(byE.prefixes, ['dir7/sub7/file']);
  t.deepEqual(byE.keys, []);
  const multi = await walkV2(t, { delimiter: 'ub', maxKeys: 3 });
  t.deepEqual(multi.entries, expected(ALL_KEYS, '', 'ub').entries);
});

for (const maxKeys of [1, 2, 3, 7, 11, 137]) {
  test(`ListObjectsV2 with delimiter pages through CommonPrefixes without repeats (MaxKeys ${maxKeys})`, async (t) => {
    for (const prefix of ['', 'dir3/', 'dir']) {
      const walk = await walkV2(t, { delimiter: '/', prefix, maxKeys });
      const want = expected(ALL_KEYS, prefix, '/');
      t.deepEqual(walk.prefixes, want.prefixes, `prefix '${prefix}'`);
      t.deepEqual(walk.keys, want.keys, `prefix '${prefix}'`);
      t.deepEqual(walk.entries, want.entries, `prefix '${prefix}'`);
      t.is(new Set(walk.prefixes).size, walk.prefixes.length, 'no prefix twice');
    }
  });
}

// ---- StartAfter, continuation tokens ----

test('StartAfter lists the keys strictly after it, existing or not', async (t) => {
  for (const startAfter of [
    'dir5/sub5/file5',
    'dir5/sub5/file5x',
    'dir9/sub9/file9',
    'a',
    '',
    'é',
    '\uFFFD',
    '😀',
    LONG_KEYS[0] as string,
    '\u{10FFFF}',
  ]) {
    const walk = await walkV2(t, { startAfter, maxKeys: 500 });
    t.deepEqual(walk.keys, expected(ALL_KEYS, '', '', startAfter).keys, `after '${startAfter}'`);
  }
  const walkOne = await walkV2(t, { startAfter: 'dir9/sub8/file9', maxKeys: 1 });
  t.deepEqual(walkOne.keys, expected(ALL_KEYS, '', '', 'dir9/sub8/file9').keys);
});

test('StartAfter with a prefix and a delimiter', async (t) => {
  const cases: Array<[string, string]> = [
    ['dir3/', 'dir3/sub4/file7'],
    ['dir3/', 'dir3/sub4/'],
    ['dir3/', 'dir2'],
    ['dir3/', 'dir4'],
    ['', 'dir5/'],
    ['', 'dir4/sub4/file4'],
    ['\uFFFD', '😀'],
    ['😀', '\uFFFD'],
  ];
  for (const [prefix, startAfter] of cases) {
    const page = await suite.s3.send(
      new ListObjectsV2Command({
        Bucket: BUCKET,
        Prefix: prefix,
        Delimiter: '/',
        StartAfter: startAfter,
      }),
    );
    const want = expected(ALL_KEYS, prefix, '/', startAfter);
    const where = `prefix '${prefix}' after '${startAfter}'`;
    t.deepEqual(keysOf(page), want.keys, where);
    t.deepEqual(prefixesOf(page), want.prefixes, where);
    t.is(page.StartAfter, startAfter, where);
  }
});

test('a continuation token takes precedence over StartAfter, which is still echoed', async (t) => {
  const first = await suite.s3.send(
    new ListObjectsV2Command({ Bucket: BUCKET, StartAfter: 'dir2', MaxKeys: 10 }),
  );
  const after = expected(ALL_KEYS, '', '', 'dir2').keys;
  t.deepEqual(keysOf(first), after.slice(0, 10));
  const second = await suite.s3.send(
    new ListObjectsV2Command({
      Bucket: BUCKET,
      StartAfter: 'dir2',
      MaxKeys: 10,
      ContinuationToken: first.NextContinuationToken as string,
    }),
  );
  t.deepEqual(keysOf(second), after.slice(10, 20));
  t.is(second.StartAfter, 'dir2');
  t.is(second.ContinuationToken, first.NextContinuationToken);
});

test('a continuation token that this server did not make is InvalidArgument 400', async (t) => {
  for (const token of ['not a token!', '%%%', 'AAAA====']) {
    const failure = await s3Failure(
      suite.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token })),
    );
    t.is(failure.name, 'InvalidArgument', token);
    t.is(failure.status, 400, token);
  }
});

// ---- MaxKeys=0 ----

test('MaxKeys=0 lists nothing and is not truncated, in v2 and v1', async (t) => {
  const v2 = await suite.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 0 }));
  t.is(v2.MaxKeys, 0);
  t.is(v2.KeyCount, 0);
  t.is(v2.Contents, undefined);
  t.is(v2.CommonPrefixes, undefined);
  t.false(v2.IsTruncated);
  t.is(v2.NextContinuationToken, undefined);
  const v1 = await suite.s3.send(
    new ListObjectsCommand({ Bucket: BUCKET, MaxKeys: 0, Delimiter: '/' }),
  );
  t.is(v1.MaxKeys, 0);
  t.is(v1.Contents, undefined);
  t.is(v1.CommonPrefixes, undefined);
  t.false(v1.IsTruncated);
  t.is(v1.NextMarker, undefined);
});

test('a negative or non-numeric max-keys is InvalidArgument 400', async (t) => {
  for (const value of ['-1', 'ten', '1.5', '']) {
    const command = new ListObjectsV2Command({ Bucket: BUCKET });
    // Rewrites the query before signing, so that the server sees a well-signed bad value.
    command.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { query: Record<string, string> };
        request.query['max-keys'] = value;
        return next(args);
      },
      { step: 'build' },
    );
    const failure = await s3Failure(suite.s3.send(command));
    t.is(failure.name, 'InvalidArgument', value);
    t.is(failure.status, 400, value);
  }
});

// ---- ListObjects (v1) ----

for (const maxKeys of [1000, 137, 1]) {
  test(`ListObjects (v1) walks all keys exactly by marker with MaxKeys ${maxKeys}`, async (t) => {
    const walk = await walkV1(t, { maxKeys });
    t.deepEqual(walk.keys, ALL_KEYS);
    t.is(walk.pages, Math.ceil(ALL_KEYS.length / maxKeys));
  });
}

for (const maxKeys of [1, 4, 137]) {
  test(`ListObjects (v1) with delimiter pages by NextMarker without repeats (MaxKeys ${maxKeys})`, async (t) => {
    for (const prefix of ['', 'dir3/', 'dir', 'long/']) {
      const walk = await walkV1(t, { delimiter: '/', prefix, maxKeys });
      const want = expected(ALL_KEYS, prefix, '/');
      t.deepEqual(walk.entries, want.entries, `prefix '${prefix}'`);
      t.deepEqual(walk.prefixes, want.prefixes, `prefix '${prefix}'`);
    }
  });
}

test('ListObjects (v1) with a marker lists the keys after it', async (t) => {
  for (const marker of ['dir5/sub5/file5', 'dir5/', 'top1', 'é', '\uFFFD']) {
    const walk = await walkV1(t, { marker, maxKeys: 400 });
    t.deepEqual(walk.keys, expected(ALL_KEYS, '', '', marker).keys, `marker '${marker}'`);
  }
});

// ---- owners ----

test('ListObjectsV2 reports Owner only with FetchOwner; ListObjects (v1) always', async (t) => {
  const plain = await suite.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 5 }));
  t.is(plain.Contents?.length, 5);
  for (const object of plain.Contents ?? []) t.is(object.Owner, undefined);

  const notFetched = await suite.s3.send(
    new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 5, FetchOwner: false }),
  );
  for (const object of notFetched.Contents ?? []) t.is(object.Owner, undefined);

  const fetched = await suite.s3.send(
    new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 5, FetchOwner: true }),
  );
  t.is(fetched.Contents?.length, 5);
  for (const object of fetched.Contents ?? []) {
    t.is(object.Owner?.ID, ROOT_CANONICAL_ID);
    t.is(typeof object.Owner?.DisplayName, 'string');
  }

  const v1 = await suite.s3.send(new ListObjectsCommand({ Bucket: BUCKET, MaxKeys: 5 }));
  t.is(v1.Contents?.length, 5);
  for (const object of v1.Contents ?? []) t.is(object.Owner?.ID, ROOT_CANONICAL_ID);
});

test('listed objects carry Size, ETag, LastModified and StorageClass', async (t) => {
  const page = await suite.s3.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'dir1/sub2/file2', MaxKeys: 2 }),
  );
  const [first] = page.Contents ?? [];
  t.is(first?.Key, 'dir1/sub2/file2');
  t.is(first?.Size, utf8('dir1/sub2/file2').length);
  t.regex(first?.ETag ?? '', /^"[0-9a-f]{32}"$/);
  t.true(first?.LastModified instanceof Date);
  t.true(Math.abs((first?.LastModified?.getTime() ?? 0) - Date.now()) < 10 * 60_000);
  t.is(first?.StorageClass, 'STANDARD');
});

// ---- order ----

test('keys are listed in UTF-8 byte order, not UTF-16 order', async (t) => {
  const walk = await walkV2(t, { maxKeys: 2, delimiter: '/' });
  const top = walk.keys.filter((key) => !key.includes('/'));
  t.deepEqual(top, sortUtf8(top));
  const order = ['Z', 'a', 'b', '~tilde', 'é', '\uE000', '\uFFFD', '😀'];
  t.deepEqual(
    top.filter((key) => order.includes(key)),
    order,
  );
  // UTF-16 code unit order would put the astral '😀' (0xD83D...) before U+E000 and U+FFFD.
  t.notDeepEqual(order, [...order].sort());
  const full = await walkV2(t, { maxKeys: 3 });
  for (let i = 1; i < full.keys.length; i++) {
    t.true(
      Buffer.compare(utf8(full.keys[i - 1] as string), utf8(full.keys[i] as string)) < 0,
      `${full.keys[i - 1]} before ${full.keys[i]}`,
    );
  }
});

test('1024-byte keys are listed whole', async (t) => {
  for (const key of LONG_KEYS) t.is(utf8(key).length, 1024);
  const walk = await walkV2(t, { prefix: 'long/', maxKeys: 1 });
  t.deepEqual(walk.keys, sortUtf8(LONG_KEYS.filter((key) => key.startsWith('long/'))));
  const rolled = await suite.s3.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'long/', Delimiter: '/' }),
  );
  t.deepEqual(prefixesOf(rolled), [`long/${'x'.repeat(1018)}/`]);
  t.deepEqual(keysOf(rolled), sortUtf8([LONG_KEYS[0] as string, LONG_KEYS[1] as string]));
  const top = await suite.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'éé' }));
  t.deepEqual(keysOf(top), [LONG_KEYS[2]]);
  t.is(top.Contents?.[0]?.Size, 1024);
  // Continuing after a 1024-byte key.
  const next = await walkV2(t, { startAfter: LONG_KEYS[0] as string, prefix: 'long/' });
  t.deepEqual(next.keys, expected(LONG_KEYS, 'long/', '', LONG_KEYS[0]).keys);
});

// ---- encoding-type=url ----

test('without encoding-type the SDK gets keys verbatim, including XML specials', async (t) => {
  const page = await suite.s3.send(
    new ListObjectsV2Command({ Bucket: ENC_BUCKET, Prefix: 'enc/a', MaxKeys: 5 }),
  );
  t.deepEqual(keysOf(page), ['enc/amp&lt<gt>"quote\'']);
  t.is(page.EncodingType, undefined);
});

test('encoding-type=url: keys, prefixes and markers are URL-encoded and EncodingType is echoed', async (t) => {
  const page = await suite.s3.send(
    new ListObjectsV2Command({ Bucket: ENC_BUCKET, EncodingType: 'url', Prefix: 'enc/' }),
  );
  t.is(page.EncodingType, 'url');
  const listed = keysOf(page);
  t.is(listed.length, ENCODED_KEYS.length);
  // The SDK (v3) hands the encoded text over as is; decoding gives back exactly the keys.
  t.deepEqual(listed.map(decodeS3Url), ENCODED_KEYS);
  t.true(
    listed.some((key, i) => key !== ENCODED_KEYS[i]),
    'the SDK does not decode',
  );
  for (const key of listed) {
    t.regex(key, /^[\x21-\x7e]+$/, `${key}: only printable ASCII, no spaces`);
    t.false(/[<>&"]/.test(key), `${key}: no XML specials`);
  }
  t.is(decodeS3Url(page.Prefix ?? ''), 'enc/');

  // Common prefixes, the delimiter and StartAfter are encoded as well.
  const rolled = await suite.s3.send(
    new ListObjectsV2Command({
      Bucket: ENC_BUCKET,
      EncodingType: 'url',
      Prefix: 'enc/',
      Delimiter: ' ',
      StartAfter: 'enc/b c',
    }),
  );
  t.is(rolled.EncodingType, 'url');
  t.deepEqual(
    prefixesOf(rolled).map(decodeS3Url),
    expected(ENCODED_KEYS, 'enc/', ' ', 'enc/b c').prefixes,
  );
  t.deepEqual(prefixesOf(rolled).map(decodeS3Url), ['enc/sub ', 'enc/with ', 'enc/😀 ']);
  t.deepEqual(keysOf(rolled).map(decodeS3Url), expected(ENCODED_KEYS, 'enc/', ' ', 'enc/b c').keys);
  t.is(decodeS3Url(rolled.Delimiter ?? ''), ' ');
  t.not(rolled.Delimiter, ' ');
  t.is(decodeS3Url(rolled.StartAfter ?? ''), 'enc/b c');
  t.not(rolled.StartAfter, 'enc/b c', 'StartAfter is encoded too');

  const raw = await rawXml(
    new ListObjectsV2Command({ Bucket: ENC_BUCKET, EncodingType: 'url', Prefix: 'enc/ü' }),
  );
  t.regex(raw, /<EncodingType>url<\/EncodingType>/);
  t.regex(raw, /<Key>enc(\/|%2F)%C3%BCn%C3%AF[^<]*<\/Key>/);
});

test('encoding-type=url pages through awkward keys with MaxKeys 1', async (t) => {
  const keys: string[] = [];
  let token: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page: ListObjectsV2CommandOutput = await suite.s3.send(
      new ListObjectsV2Command({
        Bucket: ENC_BUCKET,
        EncodingType: 'url',
        MaxKeys: 1,
        ...(token !== undefined ? { ContinuationToken: token } : {}),
      }),
    );
    keys.push(...keysOf(page).map(decodeS3Url));
    if (page.IsTruncated !== true) break;
    token = page.NextContinuationToken;
  }
  t.deepEqual(keys, ENCODED_KEYS);
});

test('ListObjects (v1) with encoding-type=url encodes NextMarker, and the decoded marker goes on', async (t) => {
  const keys: string[] = [];
  let marker: string | undefined;
  let sawEncodedMarker = false;
  for (let pages = 0; pages < 100; pages++) {
    const page: ListObjectsCommandOutput = await suite.s3.send(
      new ListObjectsCommand({
        Bucket: ENC_BUCKET,
        EncodingType: 'url',
        Delimiter: '/',
        Prefix: 'enc/',
        MaxKeys: 2,
        ...(marker !== undefined ? { Marker: marker } : {}),
      }),
    );
    t.is(page.EncodingType, 'url');
    keys.push(...keysOf(page).map(decodeS3Url), ...prefixesOf(page).map(decodeS3Url));
    if (page.IsTruncated !== true) break;
    t.is(typeof page.NextMarker, 'string');
    if (decodeS3Url(page.NextMarker as string) !== page.NextMarker) sawEncodedMarker = true;
    marker = decodeS3Url(page.NextMarker as string);
  }
  t.true(sawEncodedMarker);
  t.deepEqual(sortUtf8(keys), expected(ENCODED_KEYS, 'enc/', '/').entries);
});

test('an unknown encoding-type is InvalidArgument 400', async (t) => {
  const failure = await s3Failure(
    suite.s3.send(
      new ListObjectsV2Command({ Bucket: ENC_BUCKET, EncodingType: 'base64' as never }),
    ),
  );
  t.is(failure.name, 'InvalidArgument');
  t.is(failure.status, 400);
});

test('listing a missing bucket is NoSuchBucket 404', async (t) => {
  const v2 = await s3Failure(suite.s3.send(new ListObjectsV2Command({ Bucket: 'no-such-tree' })));
  t.is(v2.name, 'NoSuchBucket');
  t.is(v2.status, 404);
  const v1 = await s3Failure(suite.s3.send(new ListObjectsCommand({ Bucket: 'no-such-tree' })));
  t.is(v1.name, 'NoSuchBucket');
  t.is(v1.status, 404);
});
