// Static website hosting: PutBucketWebsite / GetBucketWebsite / DeleteBucketWebsite with AWS's
// validation, and the website endpoint (its own port, buckets by Host header): index documents,
// directory redirects, the error document, object redirects, RedirectAllRequestsTo, routing
// rules, Range/conditional GET, HEAD, HTML errors; and a page loaded in headless Chromium.
import { createHash } from 'node:crypto';
import {
  DeleteBucketWebsiteCommand,
  DeletePublicAccessBlockCommand,
  GetBucketWebsiteCommand,
  HeadObjectCommand,
  PutBucketCorsCommand,
  PutBucketPolicyCommand,
  PutBucketWebsiteCommand,
  PutObjectCommand,
  type WebsiteConfiguration,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { useChromium } from '../helpers/chromium.js';
import { newBucket, s3Failure, useServer } from '../helpers/server.js';
import { signedFetch } from '../helpers/sign.js';
import { makePublicRead, type WebResponse, webRequest } from '../helpers/website.js';

const suite = useServer(test);
test.before(async () => {
  await createSite();
});

/** A fresh bucket, with `website` as its website configuration when given. */
async function websiteBucket(prefix: string, website?: WebsiteConfiguration): Promise<string> {
  const name = await newBucket(suite.s3, prefix);
  await makePublicRead(suite.s3, name);
  if (website !== undefined) {
    await suite.s3.send(
      new PutBucketWebsiteCommand({ Bucket: name, WebsiteConfiguration: website }),
    );
  }
  return name;
}

async function put(
  bucket: string,
  key: string,
  body: string,
  contentType = 'text/html',
  extra: { WebsiteRedirectLocation?: string } = {},
): Promise<void> {
  await suite.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentType: contentType,
      ...extra,
    }),
  );
}

/** A request to the website endpoint with an explicit Host header; redirects are not followed. */
const web = (
  host: string,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<WebResponse> => webRequest(suite.server.webPort, host, path, options);

const host = (bucket: string): string => `${bucket}.web.localhost`;

// ---- configuration ----

test('website configuration: round trip, NoSuchWebsiteConfiguration, delete', async (t) => {
  const bucket = await websiteBucket('cfg');
  const missing = await s3Failure(suite.s3.send(new GetBucketWebsiteCommand({ Bucket: bucket })));
  t.is(missing.name, 'NoSuchWebsiteConfiguration');
  t.is(missing.status, 404);
  const config: WebsiteConfiguration = {
    IndexDocument: { Suffix: 'index.html' },
    ErrorDocument: { Key: 'error.html' },
    RoutingRules: [
      {
        Condition: { KeyPrefixEquals: 'docs/' },
        Redirect: { ReplaceKeyPrefixWith: 'documents/', HttpRedirectCode: '302' },
      },
      {
        Condition: { HttpErrorCodeReturnedEquals: '404' },
        Redirect: { HostName: 'example.com', Protocol: 'https', ReplaceKeyWith: 'missing.html' },
      },
    ],
  };
  await suite.s3.send(
    new PutBucketWebsiteCommand({ Bucket: bucket, WebsiteConfiguration: config }),
  );
  const got = await suite.s3.send(new GetBucketWebsiteCommand({ Bucket: bucket }));
  t.deepEqual(got.IndexDocument, { Suffix: 'index.html' });
  t.deepEqual(got.ErrorDocument, { Key: 'error.html' });
  t.deepEqual(got.RedirectAllRequestsTo, undefined);
  t.deepEqual(got.RoutingRules, config.RoutingRules);

  await suite.s3.send(
    new PutBucketWebsiteCommand({
      Bucket: bucket,
      WebsiteConfiguration: {
        RedirectAllRequestsTo: { HostName: 'example.org', Protocol: 'https' },
      },
    }),
  );
  const all = await suite.s3.send(new GetBucketWebsiteCommand({ Bucket: bucket }));
  t.deepEqual(all.RedirectAllRequestsTo, { HostName: 'example.org', Protocol: 'https' });
  t.is(all.IndexDocument, undefined);

  const deleted = await suite.s3.send(new DeleteBucketWebsiteCommand({ Bucket: bucket }));
  t.is(deleted.$metadata.httpStatusCode, 204);
  t.is(
    (await s3Failure(suite.s3.send(new GetBucketWebsiteCommand({ Bucket: bucket })))).name,
    'NoSuchWebsiteConfiguration',
  );
  // Deleting again is still 204.
  await suite.s3.send(new DeleteBucketWebsiteCommand({ Bucket: bucket }));
  const noBucket = await s3Failure(
    suite.s3.send(new GetBucketWebsiteCommand({ Bucket: `${bucket}-absent` })),
  );
  t.is(noBucket.name, 'NoSuchBucket');
});

test('website configuration: AWS validation errors', async (t) => {
  const bucket = await websiteBucket('val');
  const cases: Array<[WebsiteConfiguration, string]> = [
    [{}, 'InvalidArgument'],
    [{ ErrorDocument: { Key: 'e.html' } }, 'InvalidArgument'],
    [{ IndexDocument: { Suffix: '' } }, 'InvalidArgument'],
    [{ IndexDocument: { Suffix: 'a/index.html' } }, 'InvalidArgument'],
    [
      {
        RedirectAllRequestsTo: { HostName: 'example.com' },
        IndexDocument: { Suffix: 'index.html' },
      },
      'InvalidArgument',
    ],
    [
      { RedirectAllRequestsTo: { HostName: 'example.com', Protocol: 'ftp' as 'http' } },
      'InvalidArgument',
    ],
    [
      {
        IndexDocument: { Suffix: 'index.html' },
        RoutingRules: [{ Redirect: { ReplaceKeyWith: 'a', ReplaceKeyPrefixWith: 'b' } }],
      },
      'InvalidArgument',
    ],
    [
      {
        IndexDocument: { Suffix: 'index.html' },
        RoutingRules: [{ Redirect: { HttpRedirectCode: '300' } }],
      },
      'InvalidArgument',
    ],
    [
      {
        IndexDocument: { Suffix: 'index.html' },
        RoutingRules: [
          { Condition: { HttpErrorCodeReturnedEquals: '200' }, Redirect: { HostName: 'x.com' } },
        ],
      },
      'InvalidArgument',
    ],
    [
      {
        IndexDocument: { Suffix: 'index.html' },
        RoutingRules: [{ Condition: {}, Redirect: { HostName: 'x.com' } }],
      },
      'InvalidArgument',
    ],
  ];
  for (const [config, code] of cases) {
    const failure = await s3Failure(
      suite.s3.send(new PutBucketWebsiteCommand({ Bucket: bucket, WebsiteConfiguration: config })),
    );
    t.is(failure.name, code, JSON.stringify(config));
    t.is(failure.status, 400);
  }
  // Not XML, the wrong root, an unknown element: MalformedXML (sent raw, past the SDK).
  for (const body of [
    'not xml',
    '<CORSConfiguration/>',
    '<WebsiteConfiguration><IndexDocument><Suffix>i.html</Suffix></IndexDocument><Bogus/></WebsiteConfiguration>',
  ]) {
    const raw = await rawPutWebsite(bucket, body);
    t.is(raw.status, 400, body);
    t.true(raw.body.includes('<Code>MalformedXML</Code>'), raw.body);
  }
});

/** PutBucketWebsite with a hand-written body, sent with its Content-MD5 (or `md5`; null: none). */
async function rawPutWebsite(
  bucket: string,
  body: string,
  md5: string | null = createHash('md5').update(body).digest('base64'),
): Promise<{ status: number; body: string }> {
  const res = await signedFetch(suite.server.endpoint, {
    method: 'PUT',
    path: `/${bucket}?website`,
    body: Buffer.from(body),
    ...(md5 === null ? {} : { headers: { 'content-md5': md5 } }),
  });
  return { status: res.status, body: await res.text() };
}

test('PutBucketWebsite requires Content-MD5 or a checksum, and checks it', async (t) => {
  const bucket = await websiteBucket('web-md5');
  const xml =
    '<WebsiteConfiguration><IndexDocument><Suffix>index.html</Suffix></IndexDocument></WebsiteConfiguration>';
  const missing = await rawPutWebsite(bucket, xml, null);
  t.is(missing.status, 400);
  t.true(missing.body.includes('<Code>InvalidRequest</Code>'), missing.body);
  t.true(
    missing.body.includes(
      'Missing required header for this request: Content-MD5 OR x-amz-checksum-*',
    ),
  );
  const wrong = await rawPutWebsite(bucket, xml, createHash('md5').update('x').digest('base64'));
  t.is(wrong.status, 400);
  t.true(wrong.body.includes('<Code>BadDigest</Code>'), wrong.body);
  t.is((await rawPutWebsite(bucket, xml)).status, 200);
});

// ---- the website endpoint ----

let site = '';
async function createSite(): Promise<void> {
  site = await websiteBucket('site', {
    IndexDocument: { Suffix: 'index.html' },
    ErrorDocument: { Key: 'error.html' },
    RoutingRules: [
      {
        Condition: { KeyPrefixEquals: 'old/' },
        Redirect: { ReplaceKeyPrefixWith: 'new/', HttpRedirectCode: '302' },
      },
      {
        Condition: { KeyPrefixEquals: 'gone/', HttpErrorCodeReturnedEquals: '404' },
        Redirect: { HostName: 'archive.example.com', Protocol: 'https' },
      },
      {
        Condition: { KeyPrefixEquals: 'exact' },
        Redirect: { ReplaceKeyWith: 'index.html' },
      },
    ],
  });
  await put(
    site,
    'index.html',
    '<html><body><h1>home</h1><a id="go" href="/docs">docs</a></body></html>',
  );
  await put(site, 'docs/index.html', '<html><body><h1 id="title">docs index</h1></body></html>');
  await put(site, 'docs/deep/index.html', 'deep index');
  await put(site, 'error.html', '<html><body>custom error page</body></html>');
  await put(site, 'style.css', 'body { color: red }', 'text/css');
  await put(site, 'data.bin', '0123456789abcdefghij', 'application/octet-stream');
  await put(site, 'moved.html', 'old body', 'text/html', { WebsiteRedirectLocation: '/docs/' });
  await put(site, 'new/page.html', 'the new page');
  await put(site, 'gone/here.html', 'still here');
}

test('index document at the root and in nested directories', async (t) => {
  const root = await web(host(site), '/');
  t.is(root.status, 200);
  t.is(root.headers['content-type'], 'text/html');
  t.true(root.body.includes('<h1>home</h1>'));
  const docs = await web(host(site), '/docs/');
  t.is(docs.status, 200);
  t.true(docs.body.includes('docs index'));
  const deep = await web(host(site), '/docs/deep/');
  t.is(deep.body, 'deep index');
  const css = await web(host(site), '/style.css');
  t.is(css.status, 200);
  t.is(css.headers['content-type'], 'text/css');
  t.truthy(css.headers.etag);
  // The Host itself may be the bucket name.
  const bare = await web(site, '/style.css');
  t.is(bare.body, 'body { color: red }');
  // The port in the Host header does not matter.
  t.is((await web(`${host(site)}:${suite.server.webPort}`, '/style.css')).status, 200);
});

test('a directory without its trailing slash redirects (302) to it', async (t) => {
  const res = await web(host(site), '/docs');
  t.is(res.status, 302);
  t.is(res.headers.location, '/docs/');
  const deep = await web(host(site), '/docs/deep');
  t.is(deep.status, 302);
  t.is(deep.headers.location, '/docs/deep/');
});

test('a missing key answers the error document with status 404', async (t) => {
  const res = await web(host(site), '/nothing-here.html');
  t.is(res.status, 404);
  t.is(res.body, '<html><body>custom error page</body></html>');
  t.is(res.headers['content-type'], 'text/html');
  const head = await web(host(site), '/nothing-here.html', { method: 'HEAD' });
  t.is(head.status, 404);
  t.is(head.body, '');
});

test('without an error document, errors are AWS-style HTML pages', async (t) => {
  const plain = await websiteBucket('plain', { IndexDocument: { Suffix: 'index.html' } });
  const res = await web(host(plain), '/missing');
  t.is(res.status, 404);
  t.regex(String(res.headers['content-type']), /^text\/html/);
  t.true(res.body.includes('<li>Code: NoSuchKey</li>'), res.body);
  t.true(res.body.includes('<li>Key: missing</li>'), res.body);
  // An empty directory: its index is missing.
  t.is((await web(host(plain), '/')).status, 404);
});

test('a visit is an anonymous GET: a private bucket is 403; without s3:ListBucket a miss is 403', async (t) => {
  // New buckets block public access: a website configuration alone serves nothing.
  const closed = await newBucket(suite.s3, 'closed-site');
  await suite.s3.send(
    new PutBucketWebsiteCommand({
      Bucket: closed,
      WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } },
    }),
  );
  await put(closed, 'index.html', '<h1>not for you</h1>');
  const refused = await web(host(closed), '/');
  t.is(refused.status, 403);
  t.true(refused.body.includes('<li>Code: AccessDenied</li>'), refused.body);
  // Public GetObject only (the usual recipe): pages are served, a missing key is 403.
  await suite.s3.send(new DeletePublicAccessBlockCommand({ Bucket: closed }));
  await suite.s3.send(
    new PutBucketPolicyCommand({
      Bucket: closed,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 's3:GetObject',
            Resource: `arn:aws:s3:::${closed}/*`,
          },
          {
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:GetObject',
            Resource: `arn:aws:s3:::${closed}/private/*`,
          },
        ],
      }),
    }),
  );
  t.is((await web(host(closed), '/')).body, '<h1>not for you</h1>');
  t.is((await web(host(closed), '/missing')).status, 403);
  await put(closed, 'private/page.html', 'hidden');
  t.is((await web(host(closed), '/private/page.html')).status, 403);
});

test('an object with x-amz-website-redirect-location redirects (301)', async (t) => {
  const res = await web(host(site), '/moved.html');
  t.is(res.status, 301);
  t.is(res.headers.location, '/docs/');
  // The S3 API stores and returns the header.
  const headObject = await suite.s3.send(
    new HeadObjectCommand({ Bucket: site, Key: 'moved.html' }),
  );
  t.is(headObject.WebsiteRedirectLocation, '/docs/');
  const bad = await s3Failure(
    suite.s3.send(
      new PutObjectCommand({
        Bucket: site,
        Key: 'bad-redirect',
        Body: 'x',
        WebsiteRedirectLocation: 'example.com/x',
      }),
    ),
  );
  t.is(bad.name, 'InvalidArgument');
});

test('RedirectAllRequestsTo redirects every request, path and query kept', async (t) => {
  const bucket = await websiteBucket('all', {
    RedirectAllRequestsTo: { HostName: 'www.example.com', Protocol: 'https' },
  });
  const res = await web(host(bucket), '/a/b.html?x=1');
  t.is(res.status, 301);
  t.is(res.headers.location, 'https://www.example.com/a/b.html?x=1');
  const noProtocol = await websiteBucket('all2', {
    RedirectAllRequestsTo: { HostName: 'example.net' },
  });
  t.is((await web(host(noProtocol), '/')).headers.location, 'http://example.net/');
});

test('routing rules: key prefix replacement, ReplaceKeyWith, error-code condition', async (t) => {
  const prefix = await web(host(site), '/old/page.html');
  t.is(prefix.status, 302);
  t.is(prefix.headers.location, `http://${host(site)}/new/page.html`);
  const exact = await web(host(site), '/exactly-this');
  t.is(exact.status, 301);
  t.is(exact.headers.location, `http://${host(site)}/index.html`);
  // The error-code rule applies only when the key is missing.
  const present = await web(host(site), '/gone/here.html');
  t.is(present.status, 200);
  t.is(present.body, 'still here');
  const missing = await web(host(site), '/gone/away.html');
  t.is(missing.status, 301);
  t.is(missing.headers.location, 'https://archive.example.com/gone/away.html');
});

test('buckets without a website configuration, unknown buckets and other methods are refused', async (t) => {
  const plain = await websiteBucket('nosite');
  await put(plain, 'index.html', 'private');
  const res = await web(host(plain), '/index.html');
  t.is(res.status, 404);
  t.true(res.body.includes('NoSuchWebsiteConfiguration'), res.body);
  t.false(res.body.includes('private'));
  const unknown = await web(host('no-such-bucket-anywhere'), '/');
  t.is(unknown.status, 404);
  t.true(unknown.body.includes('NoSuchBucket'));
  const post = await web(host(site), '/index.html', { method: 'PUT' });
  t.is(post.status, 405);
  t.true(post.body.includes('MethodNotAllowed'));
  const del = await web(host(site), '/index.html', { method: 'DELETE' });
  t.is(del.status, 405);
});

test('a large (streamed) object, whole and by range', async (t) => {
  const big = 'abcdefghij'.repeat(30_000);
  await put(site, 'big.txt', big, 'text/plain');
  const whole = await web(host(site), '/big.txt');
  t.is(whole.status, 200);
  t.is(whole.body.length, big.length);
  t.true(whole.body === big);
  const part = await web(host(site), '/big.txt', { headers: { range: 'bytes=100000-100009' } });
  t.is(part.status, 206);
  t.is(part.body, 'abcdefghij');
});

test('Range, conditional GET and HEAD', async (t) => {
  const range = await web(host(site), '/data.bin', { headers: { range: 'bytes=2-5' } });
  t.is(range.status, 206);
  t.is(range.body, '2345');
  t.is(range.headers['content-range'], 'bytes 2-5/20');
  t.is(range.headers['content-type'], 'application/octet-stream');
  const whole = await web(host(site), '/data.bin');
  const etag = String(whole.headers.etag);
  const notModified = await web(host(site), '/data.bin', { headers: { 'if-none-match': etag } });
  t.is(notModified.status, 304);
  const failed = await web(host(site), '/data.bin', { headers: { 'if-match': '"nope"' } });
  t.is(failed.status, 412);
  const head = await web(host(site), '/data.bin', { method: 'HEAD' });
  t.is(head.status, 200);
  t.is(head.headers['content-length'], '20');
  t.is(head.body, '');
  const headIndex = await web(host(site), '/docs/', { method: 'HEAD' });
  t.is(headIndex.status, 200);
  t.is(headIndex.headers['content-type'], 'text/html');
});

test('the bucket CORS rules apply on the website endpoint', async (t) => {
  await suite.s3.send(
    new PutBucketCorsCommand({
      Bucket: site,
      CORSConfiguration: {
        CORSRules: [{ AllowedOrigins: ['http://app.example.com'], AllowedMethods: ['GET'] }],
      },
    }),
  );
  const res = await web(host(site), '/style.css', {
    headers: { origin: 'http://app.example.com' },
  });
  t.is(res.headers['access-control-allow-origin'], 'http://app.example.com');
  const other = await web(host(site), '/style.css', { headers: { origin: 'http://evil.example' } });
  t.is(other.headers['access-control-allow-origin'], undefined);
  const preflight = await web(host(site), '/style.css', {
    method: 'OPTIONS',
    headers: { origin: 'http://app.example.com', 'access-control-request-method': 'GET' },
  });
  t.is(preflight.status, 200);
  t.is(preflight.headers['access-control-allow-methods'], 'GET');
});

// ---- a real browser ----

const chromium = useChromium(test, 'website browser test', [
  '--host-resolver-rules=MAP *.web.localhost 127.0.0.1',
]);
const browserTest = chromium.browserTest;

browserTest('Chromium shows the index page and follows the directory redirect', async (t) => {
  const browser = await chromium.browser();
  const page = await browser.newPage();
  const base = `http://${host(site)}:${suite.server.webPort}`;
  const home = await page.goto(`${base}/`, { timeout: 30_000 });
  t.is(home?.status(), 200);
  t.is(await page.textContent('h1'), 'home');
  // The link goes to /docs, which redirects (302) to /docs/ and its index document.
  await Promise.all([page.waitForURL(`${base}/docs/`, { timeout: 30_000 }), page.click('#go')]);
  t.is(await page.textContent('#title'), 'docs index');
  const missing = await page.goto(`${base}/missing.html`, { timeout: 30_000 });
  t.is(missing?.status(), 404);
  t.true((await page.content()).includes('custom error page'));
  await page.close();
});
