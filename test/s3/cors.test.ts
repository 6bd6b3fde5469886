// Bucket CORS: PutBucketCors / GetBucketCors / DeleteBucketCors with AWS's validation errors;
// preflights (unsigned OPTIONS) and the CORS headers of actual requests, checked header by header
// against what AWS answers; and a real browser (Debian's Chromium through playwright-core) on
// another origin, which can upload and download only where the bucket's rules allow it.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CORSRule,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import test from 'ava';
import type { BrowserContext } from 'playwright-core';
import { useChromium } from '../helpers/chromium.js';
import { newBucket, s3Failure, useServer } from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';

const ORIGIN = 'http://app.example.com';
const NOT_ALLOWED =
  "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";
const VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';

const suite = useServer(test);

/** A fresh bucket, with `rules` as its CORS configuration when given. */
async function corsBucket(prefix: string, rules?: CORSRule[]): Promise<string> {
  const name = await newBucket(suite.s3, prefix);
  if (rules !== undefined) {
    await suite.s3.send(
      new PutBucketCorsCommand({ Bucket: name, CORSConfiguration: { CORSRules: rules } }),
    );
  }
  return name;
}

/** A preflight as a browser sends it: unsigned OPTIONS with Origin and Access-Control-Request-*. */
function preflight(
  path: string,
  headers: { origin?: string; method?: string; headers?: string },
): Promise<Response> {
  const sent: Record<string, string> = {};
  if (headers.origin !== undefined) sent.origin = headers.origin;
  if (headers.method !== undefined) sent['access-control-request-method'] = headers.method;
  if (headers.headers !== undefined) sent['access-control-request-headers'] = headers.headers;
  return fetch(`${suite.server.endpoint}${path}`, {
    method: 'OPTIONS',
    headers: sent,
    signal: AbortSignal.timeout(10_000),
  });
}

/** The `access-control-*` and `vary` headers of a response, by lower-case name. */
function corsHeadersOf(response: Response): Record<string, string> {
  const out: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name.startsWith('access-control-') || name === 'vary') out[name] = value;
  });
  return out;
}

function xmlField(xml: string, name: string): string | undefined {
  const text = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
  return text
    ?.replaceAll('&apos;', "'")
    .replaceAll('&quot;', '"')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

/** Presigned URLs, so plain fetch (and the browser) can add an Origin header. */
function presignGet(bucket: string, key: string): Promise<string> {
  return getSignedUrl(suite.s3, new GetObjectCommand({ Bucket: bucket, Key: key }), {
    expiresIn: 300,
  });
}
function presignPut(bucket: string, key: string): Promise<string> {
  return getSignedUrl(suite.s3, new PutObjectCommand({ Bucket: bucket, Key: key }), {
    expiresIn: 300,
  });
}

function md5Base64(body: string): string {
  return createHash('md5').update(body).digest('base64');
}

/** PutBucketCors with a raw XML body, signed, with Content-MD5 unless told otherwise. */
function putCorsXml(bucket: string, xml: string, md5: string | null = md5Base64(xml)) {
  return signedFetch(suite.server.endpoint, {
    method: 'PUT',
    path: `/${bucket}?cors`,
    body: Buffer.from(xml),
    headers: md5 === null ? {} : { 'content-md5': md5 },
  });
}

function rulesXml(...rules: string[]): string {
  return `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules
    .map((rule) => `<CORSRule>${rule}</CORSRule>`)
    .join('')}</CORSConfiguration>`;
}

// ---------------------------------------------------------------------------------------------
// PutBucketCors / GetBucketCors / DeleteBucketCors

test('PutBucketCors stores the rules GetBucketCors returns; DeleteBucketCors removes them', async (t) => {
  const bucket = await corsBucket('cors-crud');
  const missing = await s3Failure(suite.s3.send(new GetBucketCorsCommand({ Bucket: bucket })));
  t.is(missing.name, 'NoSuchCORSConfiguration');
  t.is(missing.status, 404);
  t.is(missing.message, 'The CORS configuration does not exist');

  const rules: CORSRule[] = [
    {
      ID: 'uploads',
      AllowedHeaders: ['content-type', 'x-amz-meta-*'],
      AllowedMethods: ['PUT', 'POST', 'DELETE'],
      AllowedOrigins: ['http://www.example.com', 'https://*.example.com'],
      ExposeHeaders: ['ETag', 'x-amz-request-id'],
      MaxAgeSeconds: 3000,
    },
    { AllowedMethods: ['GET'], AllowedOrigins: ['*'] },
  ];
  const put = await suite.s3.send(
    new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: rules } }),
  );
  t.is(put.$metadata.httpStatusCode, 200);
  const got = await suite.s3.send(new GetBucketCorsCommand({ Bucket: bucket }));
  t.deepEqual(got.CORSRules, rules);

  // A second PUT replaces the configuration.
  await suite.s3.send(
    new PutBucketCorsCommand({
      Bucket: bucket,
      CORSConfiguration: { CORSRules: [{ AllowedMethods: ['HEAD'], AllowedOrigins: [''] }] },
    }),
  );
  const replaced = await suite.s3.send(new GetBucketCorsCommand({ Bucket: bucket }));
  t.deepEqual(replaced.CORSRules, [{ AllowedMethods: ['HEAD'], AllowedOrigins: [''] }]);

  const deleted = await suite.s3.send(new DeleteBucketCorsCommand({ Bucket: bucket }));
  t.is(deleted.$metadata.httpStatusCode, 204);
  const gone = await s3Failure(suite.s3.send(new GetBucketCorsCommand({ Bucket: bucket })));
  t.is(gone.name, 'NoSuchCORSConfiguration');
  // Deleting what is not there is still 204, as AWS answers.
  const again = await suite.s3.send(new DeleteBucketCorsCommand({ Bucket: bucket }));
  t.is(again.$metadata.httpStatusCode, 204);
});

test('the CORS operations on a missing bucket are NoSuchBucket', async (t) => {
  const failure = await s3Failure(
    suite.s3.send(new GetBucketCorsCommand({ Bucket: 'no-such-cors' })),
  );
  t.is(failure.name, 'NoSuchBucket');
});

test('PutBucketCors refuses methods S3 does not support, with AWS message', async (t) => {
  const bucket = await corsBucket('cors-method');
  for (const method of ['MYMETHOD', 'get', 'OPTIONS', 'PATCH']) {
    const failure = await s3Failure(
      suite.s3.send(
        new PutBucketCorsCommand({
          Bucket: bucket,
          CORSConfiguration: { CORSRules: [{ AllowedMethods: [method], AllowedOrigins: ['*'] }] },
        }),
      ),
    );
    t.is(failure.name, 'InvalidRequest', method);
    t.is(
      failure.message,
      `Found unsupported HTTP method in CORS config. Unsupported method is ${method}`,
    );
  }
  // Nothing was stored.
  const none = await s3Failure(suite.s3.send(new GetBucketCorsCommand({ Bucket: bucket })));
  t.is(none.name, 'NoSuchCORSConfiguration');
});

test('PutBucketCors allows one wildcard per AllowedOrigin and AllowedHeader, none in ExposeHeader', async (t) => {
  const bucket = await corsBucket('cors-wildcards');
  const send = (rule: CORSRule) =>
    s3Failure(
      suite.s3.send(
        new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [rule] } }),
      ),
    );
  const origin = await send({
    AllowedMethods: ['GET'],
    AllowedOrigins: ['http://*.*.example.com'],
  });
  t.is(origin.name, 'InvalidRequest');
  t.is(
    origin.message,
    'AllowedOrigin "http://*.*.example.com" can not have more than one wildcard.',
  );
  const header = await send({
    AllowedMethods: ['GET'],
    AllowedOrigins: ['*'],
    AllowedHeaders: ['x-*-*'],
  });
  t.is(header.name, 'InvalidRequest');
  t.is(header.message, 'AllowedHeader "x-*-*" can not have more than one wildcard.');
  const expose = await send({
    AllowedMethods: ['GET'],
    AllowedOrigins: ['*'],
    ExposeHeaders: ['*'],
  });
  t.is(expose.name, 'InvalidRequest');
});

test('PutBucketCors answers MalformedXML for documents that break the schema', async (t) => {
  const bucket = await corsBucket('cors-malformed');
  const empty = await s3Failure(
    suite.s3.send(
      new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [] } }),
    ),
  );
  t.is(empty.name, 'MalformedXML');
  const manyRules = Array.from(
    { length: 101 },
    () => '<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>',
  );
  const documents = {
    'no rule': rulesXml(),
    'no AllowedOrigin': rulesXml('<AllowedMethod>GET</AllowedMethod>'),
    'no AllowedMethod': rulesXml('<AllowedOrigin>*</AllowedOrigin>'),
    'an unknown element': rulesXml(
      '<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin><Colour>red</Colour>',
    ),
    'a MaxAgeSeconds that is not a number': rulesXml(
      '<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin><MaxAgeSeconds>soon</MaxAgeSeconds>',
    ),
    '101 rules': rulesXml(...manyRules),
    'not XML': '<CORSConfiguration><CORSRule>',
    'the wrong root': '<Configuration><CORSRule/></Configuration>',
  };
  for (const [label, xml] of Object.entries(documents)) {
    const response = await putCorsXml(bucket, xml);
    const body = await response.text();
    t.is(response.status, 400, label);
    t.is(xmlField(body, 'Code'), 'MalformedXML', label);
  }
  // 100 rules is the most there may be, and pretty-printed XML is fine.
  const hundred = rulesXml(...manyRules.slice(1)).replaceAll('><', '>\n  <');
  const ok = await putCorsXml(bucket, hundred);
  t.is(ok.status, 200, await ok.text());
  const got = await suite.s3.send(new GetBucketCorsCommand({ Bucket: bucket }));
  t.is(got.CORSRules?.length, 100);
});

test('PutBucketCors requires Content-MD5 or a checksum, and checks it', async (t) => {
  const bucket = await corsBucket('cors-md5');
  const xml = rulesXml('<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>');
  const missing = await putCorsXml(bucket, xml, null);
  const missingBody = await missing.text();
  t.is(missing.status, 400);
  t.is(xmlField(missingBody, 'Code'), 'InvalidRequest');
  t.is(
    xmlField(missingBody, 'Message'),
    'Missing required header for this request: Content-MD5 OR x-amz-checksum-*',
  );
  const wrong = await putCorsXml(bucket, xml, md5Base64('something else'));
  t.is(wrong.status, 400);
  t.is(xmlField(await wrong.text(), 'Code'), 'BadDigest');
  const right = await putCorsXml(bucket, xml);
  t.is(right.status, 200);
});

// ---------------------------------------------------------------------------------------------
// Preflight (OPTIONS)

const UPLOAD_RULES: CORSRule[] = [
  {
    AllowedOrigins: [ORIGIN],
    AllowedMethods: ['PUT', 'POST'],
    AllowedHeaders: ['content-type', 'x-amz-meta-*'],
    ExposeHeaders: ['ETag', 'x-amz-request-id'],
    MaxAgeSeconds: 3000,
  },
  { AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'], MaxAgeSeconds: 60 },
];

test('a preflight that matches a rule is 200 with the rule headers, unauthenticated', async (t) => {
  const bucket = await corsBucket('cors-preflight', UPLOAD_RULES);
  const response = await preflight(`/${bucket}/photos/cat.jpg`, {
    origin: ORIGIN,
    method: 'PUT',
    headers: 'Content-Type, X-Amz-Meta-Colour',
  });
  t.is(response.status, 200);
  t.is(await response.text(), '');
  t.is(response.headers.get('content-length'), '0');
  t.truthy(response.headers.get('x-amz-request-id'));
  t.deepEqual(corsHeadersOf(response), {
    'access-control-allow-origin': ORIGIN,
    'access-control-allow-credentials': 'true',
    'access-control-allow-methods': 'PUT, POST',
    'access-control-allow-headers': 'content-type, x-amz-meta-colour',
    'access-control-expose-headers': 'ETag, x-amz-request-id',
    'access-control-max-age': '3000',
    vary: VARY,
  });
});

test('a preflight takes the first matching rule; a "*" origin answers "*" without credentials', async (t) => {
  const bucket = await corsBucket('cors-first', UPLOAD_RULES);
  // GET is not in the first rule: the second one (any origin) answers.
  const response = await preflight(`/${bucket}/k`, { origin: ORIGIN, method: 'GET' });
  t.is(response.status, 200);
  t.deepEqual(corsHeadersOf(response), {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'GET, HEAD',
    'access-control-max-age': '60',
    vary: VARY,
  });
});

async function forbidden(
  t: import('ava').ExecutionContext,
  response: Response,
  method: string,
  resourceType: string,
  message = NOT_ALLOWED,
): Promise<void> {
  const body = await response.text();
  t.is(response.status, 403);
  t.is(response.headers.get('content-type'), 'application/xml');
  t.is(xmlField(body, 'Code'), 'AccessForbidden');
  t.is(xmlField(body, 'Message'), message);
  t.is(xmlField(body, 'Method'), method);
  t.is(xmlField(body, 'ResourceType'), resourceType);
  t.deepEqual(corsHeadersOf(response), {});
}

test('a preflight for a method no rule allows is 403 AccessForbidden', async (t) => {
  const bucket = await corsBucket('cors-pf-method', UPLOAD_RULES);
  await forbidden(
    t,
    await preflight(`/${bucket}/k`, { origin: ORIGIN, method: 'DELETE' }),
    'DELETE',
    'OBJECT',
  );
  // On the bucket itself the resource type is BUCKET.
  await forbidden(
    t,
    await preflight(`/${bucket}`, { origin: ORIGIN, method: 'DELETE' }),
    'DELETE',
    'BUCKET',
  );
});

test('a preflight asking for a header no rule allows is 403 AccessForbidden', async (t) => {
  const bucket = await corsBucket('cors-pf-header', UPLOAD_RULES);
  await forbidden(
    t,
    await preflight(`/${bucket}/k`, {
      origin: ORIGIN,
      method: 'PUT',
      headers: 'content-type, x-custom',
    }),
    'PUT',
    'OBJECT',
  );
  // The rule with no AllowedHeader allows no requested header at all.
  await forbidden(
    t,
    await preflight(`/${bucket}/k`, { origin: ORIGIN, method: 'GET', headers: 'range' }),
    'GET',
    'OBJECT',
  );
});

test('a preflight from an origin no rule allows is 403 AccessForbidden', async (t) => {
  const bucket = await corsBucket('cors-pf-origin', [
    { AllowedOrigins: [ORIGIN], AllowedMethods: ['PUT'] },
  ]);
  for (const origin of ['http://evil.example.com', 'https://app.example.com', `${ORIGIN}:8080`]) {
    await forbidden(t, await preflight(`/${bucket}/k`, { origin, method: 'PUT' }), 'PUT', 'OBJECT');
  }
});

test('wildcard origins match any run of characters where the "*" stands', async (t) => {
  const bucket = await corsBucket('cors-pf-wild', [
    { AllowedOrigins: ['http://*.example.com', 'https://localhost:*'], AllowedMethods: ['GET'] },
  ]);
  for (const origin of [
    'http://www.example.com',
    'http://a.b.example.com',
    'https://localhost:5173',
  ]) {
    const response = await preflight(`/${bucket}/k`, { origin, method: 'GET' });
    t.is(response.status, 200, origin);
    t.is(response.headers.get('access-control-allow-origin'), origin);
    t.is(response.headers.get('access-control-allow-credentials'), 'true');
  }
  for (const origin of [
    'http://example.com',
    'https://www.example.com',
    'http://www.example.com.evil.net',
    'http://localhost:5173',
  ]) {
    const response = await preflight(`/${bucket}/k`, { origin, method: 'GET' });
    t.is(response.status, 403, origin);
  }
});

test('a preflight without Origin, or without a valid requested method, is 400 BadRequest', async (t) => {
  const bucket = await corsBucket('cors-pf-bad', UPLOAD_RULES);
  const noOrigin = await preflight(`/${bucket}/k`, { method: 'PUT' });
  const noOriginBody = await noOrigin.text();
  t.is(noOrigin.status, 400);
  t.is(xmlField(noOriginBody, 'Code'), 'BadRequest');
  t.is(
    xmlField(noOriginBody, 'Message'),
    'Insufficient information. Origin request header needed.',
  );
  const noMethod = await preflight(`/${bucket}/k`, { origin: ORIGIN });
  const noMethodBody = await noMethod.text();
  t.is(noMethod.status, 400);
  t.is(xmlField(noMethodBody, 'Code'), 'BadRequest');
  t.is(xmlField(noMethodBody, 'Message'), 'Invalid Access-Control-Request-Method: null');
  const badMethod = await preflight(`/${bucket}/k`, { origin: ORIGIN, method: 'PATCH' });
  t.is(badMethod.status, 400);
  t.is(xmlField(await badMethod.text(), 'Message'), 'Invalid Access-Control-Request-Method: PATCH');
});

test('a preflight to a bucket without CORS, or to no bucket, is 403 AccessForbidden', async (t) => {
  const bucket = await corsBucket('cors-pf-none');
  await forbidden(
    t,
    await preflight(`/${bucket}/k`, { origin: ORIGIN, method: 'PUT' }),
    'PUT',
    'BUCKET',
    'CORSResponse: CORS is not enabled for this bucket.',
  );
  await forbidden(
    t,
    await preflight(`/${bucket}/k`, { origin: ORIGIN }),
    'OPTIONS',
    'BUCKET',
    'CORSResponse: CORS is not enabled for this bucket.',
  );
  await forbidden(
    t,
    await preflight('/no-such-bucket-for-cors/k', { origin: ORIGIN, method: 'GET' }),
    'GET',
    'BUCKET',
    'CORSResponse: Bucket not found',
  );
  // The configuration deleted, preflights are refused again.
  const configured = await corsBucket('cors-pf-deleted', UPLOAD_RULES);
  t.is((await preflight(`/${configured}/k`, { origin: ORIGIN, method: 'PUT' })).status, 200);
  await suite.s3.send(new DeleteBucketCorsCommand({ Bucket: configured }));
  t.is((await preflight(`/${configured}/k`, { origin: ORIGIN, method: 'PUT' })).status, 403);
});

// ---------------------------------------------------------------------------------------------
// Actual requests

const APP_RULES: CORSRule[] = [
  {
    AllowedOrigins: [ORIGIN],
    AllowedMethods: ['GET', 'PUT'],
    ExposeHeaders: ['ETag'],
    MaxAgeSeconds: 600,
  },
];
const APP_HEADERS = {
  'access-control-allow-origin': ORIGIN,
  'access-control-allow-credentials': 'true',
  'access-control-allow-methods': 'GET, PUT',
  'access-control-expose-headers': 'ETag',
  'access-control-max-age': '600',
  vary: VARY,
};

test('GET and PUT from an allowed origin carry the CORS headers', async (t) => {
  const bucket = await corsBucket('cors-actual', APP_RULES);
  const put = await fetch(await presignPut(bucket, 'note.txt'), {
    method: 'PUT',
    body: 'hello',
    headers: { origin: ORIGIN },
  });
  t.is(put.status, 200);
  t.deepEqual(corsHeadersOf(put), APP_HEADERS);
  const get = await fetch(await presignGet(bucket, 'note.txt'), { headers: { origin: ORIGIN } });
  t.is(get.status, 200);
  t.is(await get.text(), 'hello');
  t.deepEqual(corsHeadersOf(get), APP_HEADERS);
});

test('requests without Origin, from another origin or with a method no rule allows get none', async (t) => {
  const bucket = await corsBucket('cors-actual-none', APP_RULES);
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v' }));
  const url = await presignGet(bucket, 'k');
  const plain = await fetch(url);
  t.is(plain.status, 200);
  t.deepEqual(corsHeadersOf(plain), {});
  await plain.arrayBuffer();
  const other = await fetch(url, { headers: { origin: 'http://other.example.com' } });
  t.is(other.status, 200);
  t.deepEqual(corsHeadersOf(other), {});
  await other.arrayBuffer();
  const head = await fetch(
    await getSignedUrl(suite.s3, new HeadObjectCommand({ Bucket: bucket, Key: 'k' })),
    { method: 'HEAD', headers: { origin: ORIGIN } },
  );
  t.is(head.status, 200);
  t.deepEqual(corsHeadersOf(head), {});
  // A bucket without CORS configuration never answers with CORS headers.
  const bare = await corsBucket('cors-actual-bare');
  await suite.s3.send(new PutObjectCommand({ Bucket: bare, Key: 'k', Body: 'v' }));
  const bareGet = await fetch(await presignGet(bare, 'k'), { headers: { origin: ORIGIN } });
  t.is(bareGet.status, 200);
  t.deepEqual(corsHeadersOf(bareGet), {});
  await bareGet.arrayBuffer();
});

test('error answers to an allowed origin carry the CORS headers too', async (t) => {
  const bucket = await corsBucket('cors-actual-errors', APP_RULES);
  const missing = await fetch(await presignGet(bucket, 'no-such-key'), {
    headers: { origin: ORIGIN },
  });
  t.is(missing.status, 404);
  t.is(xmlField(await missing.text(), 'Code'), 'NoSuchKey');
  t.deepEqual(corsHeadersOf(missing), APP_HEADERS);
  // A bad signature is refused before any handler runs; the browser still may read why.
  const url = new URL(await presignGet(bucket, 'k'));
  url.searchParams.set('X-Amz-Signature', '0'.repeat(64));
  const denied = await fetch(url, { headers: { origin: ORIGIN } });
  t.is(denied.status, 403);
  t.is(xmlField(await denied.text(), 'Code'), 'SignatureDoesNotMatch');
  t.deepEqual(corsHeadersOf(denied), APP_HEADERS);
});

// ---------------------------------------------------------------------------------------------
// A real browser: a page on another origin uploads and downloads through presigned URLs.

const chromium = useChromium(test, 'CORS browser tests');
const browserTest = chromium.browserTest;

/** The page's script: PUT with a custom header (so a preflight first), then GET; the outcome
 *  lands in window.result. */
const PAGE = `<!doctype html>
<html><head><title>hangar cors</title></head><body><pre id="out">running</pre><script>
(async () => {
  const { putUrl, getUrl } = JSON.parse(decodeURIComponent(location.hash.slice(1)));
  const result = {};
  try {
    if (putUrl) {
      const put = await fetch(putUrl, {
        method: 'PUT',
        headers: { 'x-requested-with': 'hangar-cors-test' },
        body: 'written by a browser',
      });
      result.putStatus = put.status;
      result.putETag = put.headers.get('etag');
    }
    const get = await fetch(getUrl);
    result.getStatus = get.status;
    result.getETag = get.headers.get('etag');
    result.body = await get.text();
  } catch (error) {
    result.error = String(error);
  }
  window.result = result;
  document.getElementById('out').textContent = JSON.stringify(result);
})();
</script></body></html>`;

let pageServer: Server | undefined;
let pageOrigin = '';

/** Serves PAGE from its own origin, then launches the browser (both once). */
async function startBrowser(): Promise<BrowserContext> {
  if (pageServer === undefined) {
    pageServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    });
    await new Promise<void>((resolve) => pageServer?.listen(0, '127.0.0.1', resolve));
    pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
  }
  return chromium.browser();
}

test.after.always(async () => {
  if (pageServer !== undefined) {
    pageServer.closeAllConnections();
    await new Promise<void>((resolve) => pageServer?.close(() => resolve()));
  }
});

interface PageResult {
  putStatus?: number;
  putETag?: string | null;
  getStatus?: number;
  getETag?: string | null;
  body?: string;
  error?: string;
}

/** Loads the page on its own origin; it PUTs the key (unless told not to), then GETs it. */
async function runPage(bucket: string, key: string, put = true): Promise<PageResult> {
  const context = await startBrowser();
  const page = await context.newPage();
  try {
    const urls = {
      putUrl: put ? await presignPut(bucket, key) : '',
      getUrl: await presignGet(bucket, key),
    };
    await page.goto(`${pageOrigin}/#${encodeURIComponent(JSON.stringify(urls))}`, {
      timeout: 20_000,
    });
    await page.waitForFunction(
      () => (globalThis as { result?: unknown }).result !== undefined,
      null,
      {
        timeout: 20_000,
      },
    );
    return (await page.evaluate(() => (globalThis as { result?: unknown }).result)) as PageResult;
  } finally {
    await page.close();
  }
}

browserTest(
  'Chromium on another origin PUTs (after a preflight) and GETs through CORS',
  async (t) => {
    t.timeout(120_000);
    // The page's origin is http://127.0.0.1:<some port>: a wildcard rule for that host.
    const bucket = await corsBucket('cors-browser', [
      {
        AllowedOrigins: ['http://127.0.0.1:*'],
        AllowedMethods: ['GET', 'PUT'],
        AllowedHeaders: ['x-requested-with'],
        ExposeHeaders: ['ETag'],
        MaxAgeSeconds: 5,
      },
    ]);
    const result = await runPage(bucket, 'from-browser.txt');
    t.is(result.error, undefined);
    t.is(result.putStatus, 200);
    t.is(result.getStatus, 200);
    t.is(result.body, 'written by a browser');
    t.regex(result.putETag ?? '', /^"[0-9a-f]{32}"$/);
    t.is(result.getETag, result.putETag);
    const stored = await suite.s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'from-browser.txt' }),
    );
    t.is(await stored.Body?.transformToString(), 'written by a browser');
  },
);

browserTest('Chromium cannot write or read a bucket without CORS configuration', async (t) => {
  t.timeout(120_000);
  const bucket = await corsBucket('cors-browser-none');
  const result = await runPage(bucket, 'blocked.txt');
  t.is(result.putStatus, undefined);
  t.regex(result.error ?? '', /TypeError: Failed to fetch/);
  // The preflight failed, so the PUT itself was never sent.
  const head = await s3Failure(
    suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'blocked.txt' })),
  );
  t.is(head.status, 404);
  // A simple GET (no preflight) reaches hangar, but the browser withholds the answer.
  await suite.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'blocked.txt', Body: 'secret' }));
  const read = await runPage(bucket, 'blocked.txt', false);
  t.is(read.getStatus, undefined);
  t.regex(read.error ?? '', /TypeError: Failed to fetch/);
});
