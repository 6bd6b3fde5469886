// The web console (console/, served by the admin port under /console): how it is served
// (caching, precompression, CSP), the S3 port's CORS for the console's origin, and in a real
// browser (Debian's Chromium through playwright-core) the operator's pages: sign-in, buckets,
// keys with grants, the live request chart under load, and the CORS form's validation errors.
import {
  CreateBucketCommand,
  GetBucketCorsCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { adminCall } from '../helpers/admin.js';
import { useChromium } from '../helpers/chromium.js';
import {
  consoleUrl,
  openConsole,
  screenshot,
  signInOperator,
  signInUser,
  waitUntil,
} from '../helpers/console.js';
import type { Credentials } from '../helpers/keys.js';
import { newBucket, s3Failure, useServer } from '../helpers/server.js';

const suite = useServer(test);
const { browserTest, browser } = useChromium(test, 'console browser tests', [
  '--window-size=1280,900',
]);

test.serial(
  'the console is served with caching headers, precompressed, under a strict CSP',
  async (t) => {
    const base = consoleUrl(suite.server);
    const redirect = await fetch(base.slice(0, -1), { redirect: 'manual' });
    t.is(redirect.status, 301);
    t.is(redirect.headers.get('location'), '/console/');

    const index = await fetch(base, { headers: { 'accept-encoding': 'br' } });
    t.is(index.status, 200);
    t.is(index.headers.get('content-encoding'), 'br');
    t.is(index.headers.get('cache-control'), 'no-cache, private');
    const policy = index.headers.get('content-security-policy') ?? '';
    t.true(policy.includes("script-src 'self'"), policy);
    t.true(policy.includes(`connect-src 'self' ${suite.server.endpoint}`), policy);
    t.true(policy.includes("frame-ancestors 'none'"), policy);
    const html = await index.text(); // fetch decodes br
    const script = /src="(assets\/main-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    t.truthy(script, html);

    const etag = index.headers.get('etag') ?? '';
    const again = await fetch(base, { headers: { 'if-none-match': etag } });
    t.is(again.status, 304);

    const asset = await fetch(`${base}${script}`, { headers: { 'accept-encoding': 'gzip' } });
    t.is(asset.status, 200);
    t.is(asset.headers.get('content-encoding'), 'gzip');
    t.is(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    t.is(asset.headers.get('content-type'), 'text/javascript; charset=utf-8');
    const plain = await fetch(`${base}${script}`, { headers: { 'accept-encoding': 'identity' } });
    t.is(plain.headers.get('content-encoding'), null);
    t.is((await plain.arrayBuffer()).byteLength, (await asset.arrayBuffer()).byteLength);

    const config = (await (await fetch(`${base}config.json`)).json()) as Record<string, string>;
    t.deepEqual(config, { s3Endpoint: suite.server.endpoint, region: 'us-east-1' });
    t.is((await fetch(`${base}nothing-here.js`)).status, 404);
    t.is((await fetch(base, { method: 'POST', body: 'x' })).status, 405);
  },
);

test.serial('the S3 port answers CORS for the console origin only, on any bucket', async (t) => {
  const bucket = await newBucket(suite.s3, 'console-cors');
  const consoleOrigin = new URL(suite.server.adminEndpoint).origin;
  const preflight = (origin: string) =>
    fetch(`${suite.server.endpoint}/${bucket}/some/key`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'authorization, x-amz-date, content-type',
      },
    });
  const allowed = await preflight(consoleOrigin);
  t.is(allowed.status, 200);
  t.is(allowed.headers.get('access-control-allow-origin'), consoleOrigin);
  t.is(
    allowed.headers.get('access-control-allow-headers'),
    'authorization, x-amz-date, content-type',
  );
  t.is(allowed.headers.get('access-control-allow-credentials'), null);
  // Another origin gets the bucket's own answer: this bucket has no CORS configuration.
  const other = await preflight('http://evil.example.com');
  t.is(other.status, 403);
  t.is(other.headers.get('access-control-allow-origin'), null);
  // An actual (here unsigned, refused) request from the console carries the headers, so the
  // console can read S3's error.
  const refused = await fetch(`${suite.server.endpoint}/${bucket}`, {
    headers: { origin: consoleOrigin },
  });
  t.is(refused.status, 403);
  t.is(refused.headers.get('access-control-allow-origin'), consoleOrigin);
  t.is(refused.headers.get('access-control-expose-headers'), '*');
});

/** The key the operator makes in the browser, used by the bucket-user tests after it. */
let userKeys: Credentials | undefined;
const bucketName = `console-ui-${process.pid}`;
let hiddenBucket = '';

browserTest('an operator signs in, creates a bucket, a key and grants it the bucket', async (t) => {
  hiddenBucket = await newBucket(suite.s3, 'console-hidden');
  const page = await openConsole(await browser(), suite.server);
  await screenshot(page, 'sign-in');
  await signInOperator(page, 'wrong-token-000000');
  await page.getByRole('alert').filter({ hasText: 'Invalid authorization token' }).waitFor();
  await signInOperator(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();

  await page.getByRole('link', { name: 'Buckets' }).click();
  await page.getByLabel('New bucket name').fill(bucketName);
  await page.getByRole('button', { name: 'Create bucket' }).click();
  await page.locator(`tr[data-bucket="${bucketName}"]`).waitFor();
  // A name S3 refuses (the field's pattern lets it through) is refused with the admin API's
  // message, in place.
  await page.getByLabel('New bucket name').fill('192.168.1.1');
  await page.getByRole('button', { name: 'Create bucket' }).click();
  await page.getByRole('alert').filter({ hasText: 'IP address' }).waitFor();
  t.is(
    await page.getByLabel('New bucket name').getAttribute('aria-describedby'),
    'create-bucket-error',
  );
  await screenshot(page, 'buckets');

  await page.getByRole('link', { name: 'Keys' }).click();
  await page.getByLabel('New key name').fill('console-user');
  await page.getByRole('button', { name: 'Create key' }).click();
  const accessKeyId = (await page.locator('[data-created-key]').textContent()) ?? '';
  const secretAccessKey = (await page.locator('[data-created-secret]').textContent()) ?? '';
  t.regex(accessKeyId, /^\S{16,}$/);
  t.regex(secretAccessKey, /^\S{32,}$/);
  userKeys = { accessKeyId, secretAccessKey };

  const cell = page.locator(`tr[data-key-id="${accessKeyId}"] td[data-bucket="${bucketName}"]`);
  for (const permission of ['read', 'write', 'owner']) {
    await cell.locator(`input[name="${permission}"]`).check();
    await page.waitForResponse((r) => r.url().includes('/v2/GetKeyInfo'));
  }
  await page.getByRole('button', { name: 'Done' }).click();
  await screenshot(page, 'keys');
  const info = await adminCall(suite.server, 'GET', `/v2/GetKeyInfo?id=${accessKeyId}`);
  const granted = (info.json.buckets as Array<{ globalAliases: string[]; permissions: unknown }>)
    .filter((b) => b.globalAliases.includes(bucketName))
    .map((b) => b.permissions);
  t.deepEqual(granted, [{ read: true, write: true, owner: true }]);
  // The checkboxes show what the admin API now says.
  for (const permission of ['read', 'write', 'owner']) {
    t.true(await cell.locator(`input[name="${permission}"]`).isChecked());
  }
  await page.close();
});

browserTest('the overview request chart moves while a load runs', async (t) => {
  const page = await openConsole(await browser(), suite.server);
  await signInOperator(page);
  const chart = page.locator('.request-chart');
  await chart.waitFor();
  await waitUntil(
    'the chart has two points',
    async () => Number(await chart.getAttribute('data-points')) >= 2,
  );
  const before = Number(await chart.getAttribute('data-max-rate'));
  const errorsBefore = Number(await chart.getAttribute('data-max-error-rate'));
  // A load of small requests for about four seconds, a third of them GETs of a missing key
  // (404s: the errors line).
  const until = Date.now() + 4000;
  const worker = async () => {
    while (Date.now() < until) {
      await suite.s3.send(new HeadBucketCommand({ Bucket: bucketName }));
      await suite.s3.send(new ListObjectsV2Command({ Bucket: bucketName, MaxKeys: 1 }));
      const missing = await s3Failure(
        suite.s3.send(new GetObjectCommand({ Bucket: bucketName, Key: 'missing' })),
      );
      if (missing.status !== 404) throw new Error(`GET of a missing key: ${missing.status}`);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  await waitUntil(
    'the chart shows the load',
    async () => Number(await chart.getAttribute('data-max-rate')) > before + 20,
  );
  const peak = Number(await chart.getAttribute('data-max-rate'));
  t.true(peak > before + 20, `peak ${peak} requests/s, before ${before}`);
  await waitUntil(
    'the chart shows the errors',
    async () => Number(await chart.getAttribute('data-max-error-rate')) > errorsBefore + 5,
  );
  t.is(await page.locator('.request-chart canvas').count(), 1);
  await page.locator('[data-health="healthy"]').waitFor();
  await screenshot(page, 'overview');
  await page.close();
});

browserTest(
  'a bucket user sees only the granted bucket; a bad CORS rule shows S3 error in place',
  async (t) => {
    if (userKeys === undefined) return t.fail('the operator test made no key');
    const page = await openConsole(await browser(), suite.server);
    await signInUser(page, { accessKeyId: userKeys.accessKeyId, secretAccessKey: 'wrong' });
    await page.getByRole('alert').filter({ hasText: 'SignatureDoesNotMatch' }).waitFor();
    await signInUser(page, userKeys);
    await page.locator(`tr[data-bucket="${bucketName}"]`).waitFor();
    t.is(await page.locator(`tr[data-bucket="${hiddenBucket}"]`).count(), 0);
    t.is(await page.getByRole('link', { name: 'Keys' }).count(), 0);

    await page
      .locator(`tr[data-bucket="${bucketName}"]`)
      .getByRole('link', { name: 'Settings' })
      .click();
    await page.getByRole('button', { name: 'Add rule' }).click();
    const rule = page.locator('fieldset[data-rule="0"]');
    await rule.getByLabel('Allowed origins (one a line)').fill('http://*.*.example.com');
    await rule.getByLabel('PUT').check();
    await page.getByRole('button', { name: 'Save CORS' }).click();
    const problem = rule.locator('.field-error');
    await problem.waitFor();
    t.is(
      await problem.textContent(),
      'InvalidRequest: AllowedOrigin "http://*.*.example.com" can not have more than one wildcard.',
    );
    t.is(
      await rule.getByLabel('Allowed origins (one a line)').getAttribute('aria-invalid'),
      'true',
    );
    await rule.getByLabel('Allowed origins (one a line)').scrollIntoViewIfNeeded();
    await screenshot(page, 'cors');
    await rule.getByLabel('Allowed origins (one a line)').fill('https://app.example.com');
    await page.getByRole('button', { name: 'Save CORS' }).click();
    await page.getByRole('status').filter({ hasText: 'CORS configuration saved' }).waitFor();
    t.true(
      ((await page.locator('pre[data-xml="cors"]').textContent()) ?? '').includes(
        '<AllowedOrigin>https://app.example.com</AllowedOrigin>',
      ),
    );
    const stored = await suite.s3.send(new GetBucketCorsCommand({ Bucket: bucketName }));
    t.deepEqual(stored.CORSRules, [
      { AllowedOrigins: ['https://app.example.com'], AllowedMethods: ['GET', 'PUT'] },
    ]);
    await page.close();
  },
);

browserTest('dark and light themes; a narrow window keeps every control reachable', async (t) => {
  const page = await openConsole(await browser(), suite.server);
  const theme = () => page.locator('html').getAttribute('data-theme');
  const before = await theme();
  await page.getByRole('button', { name: /^Switch to (dark|light) theme$/ }).click();
  await waitUntil('the theme switches', async () => (await theme()) !== before);
  const after = await theme();
  t.true(['dark', 'light'].includes(after ?? ''));
  await page.setViewportSize({ width: 380, height: 800 });
  await signInOperator(page);
  await page.getByRole('link', { name: 'Buckets' }).click();
  await page.locator(`tr[data-bucket="${bucketName}"]`).waitFor();
  // Nothing wider than the window: no horizontal scrolling of the page itself.
  const overflow = await page.evaluate<number>(
    'document.documentElement.scrollWidth - document.documentElement.clientWidth',
  );
  t.true(overflow <= 0, `the page is ${overflow}px wider than the window`);
  // Keyboard: Tab reaches the bucket's link.
  await page.keyboard.press('Tab');
  t.is(await page.evaluate<string>('document.activeElement.tagName'), 'A');
  await screenshot(page, 'narrow-dark');
  await page.close();
});

browserTest('bucket settings: an operator without S3 keys sets quotas', async (t) => {
  const page = await openConsole(await browser(), suite.server);
  await signInOperator(page);
  await page.getByRole('link', { name: 'Buckets' }).click();
  await page
    .locator(`tr[data-bucket="${bucketName}"]`)
    .getByRole('link', { name: 'Settings' })
    .click();
  // Without S3 keys an operator gets the admin API's settings only.
  await page.getByRole('alert').filter({ hasText: 'Bucket settings need S3 keys.' }).waitFor();
  await page.getByLabel('Maximum objects (empty: none)').fill('5000');
  await page.getByRole('button', { name: 'Save quotas' }).click();
  await page.getByRole('status').filter({ hasText: 'Quotas saved' }).waitFor();
  const info = await adminCall(suite.server, 'GET', `/v2/GetBucketInfo?globalAlias=${bucketName}`);
  t.deepEqual(info.json.quotas, { maxSize: null, maxObjects: 5000 });
  await screenshot(page, 'quotas');
  await page.close();
});

browserTest('an operator lists, adds and removes a bucket global aliases', async (t) => {
  const page = await openConsole(await browser(), suite.server);
  await signInOperator(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.goto(`${consoleUrl(suite.server)}#/buckets/${bucketName}/settings`);
  const aliases = page.locator('form[aria-labelledby="aliases-title"]');
  await aliases.locator(`li[data-alias="${bucketName}"]`).waitFor();
  const extra = `${bucketName}-alias`;
  // Keyboard: from the field, Tab reaches Add alias and Enter presses it.
  await aliases.getByLabel('New alias').fill(extra);
  await page.keyboard.press('Tab');
  t.is(await page.evaluate<string>('document.activeElement.textContent'), 'Add alias');
  await page.keyboard.press('Enter');
  await aliases
    .getByRole('status')
    .filter({ hasText: `Alias ${extra} added` })
    .waitFor();
  await aliases.locator(`li[data-alias="${extra}"]`).waitFor();
  await suite.s3.send(new HeadBucketCommand({ Bucket: extra }));
  const info = await adminCall(suite.server, 'GET', `/v2/GetBucketInfo?globalAlias=${extra}`);
  t.deepEqual([...info.json.globalAliases].sort(), [bucketName, extra].sort());

  // Another bucket's name is refused with the admin API's answer, in place.
  await aliases.getByLabel('New alias').fill(await newBucket(suite.s3, 'console-taken'));
  await aliases.getByRole('button', { name: 'Add alias' }).click();
  await aliases.getByRole('alert').filter({ hasText: 'BucketAlreadyExists' }).waitFor();

  await aliases.getByRole('button', { name: `Remove alias ${extra}` }).click();
  await aliases.locator(`li[data-alias="${extra}"]`).waitFor({ state: 'detached' });
  t.is((await s3Failure(suite.s3.send(new HeadBucketCommand({ Bucket: extra })))).status, 404);
  // The last alias stays: the bucket would have no name.
  await aliases.getByRole('button', { name: `Remove alias ${bucketName}` }).click();
  await aliases.getByRole('alert').filter({ hasText: 'BucketAliasRequired' }).waitFor();
  await suite.s3.send(new HeadBucketCommand({ Bucket: bucketName }));
  await page.close();
});

browserTest(
  'bucket settings: versioning switch, object lock retention, a malformed policy in place',
  async (t) => {
    if (userKeys === undefined) return t.fail('the operator test made no key');
    const locked = `console-lock-${process.pid}`;
    await suite.s3.send(
      new CreateBucketCommand({ Bucket: locked, ObjectLockEnabledForBucket: true }),
    );
    const lockedInfo = await adminCall(
      suite.server,
      'GET',
      `/v2/GetBucketInfo?globalAlias=${locked}`,
    );
    await adminCall(suite.server, 'POST', '/v2/AllowBucketKey', {
      bucketId: lockedInfo.json.id,
      accessKeyId: userKeys.accessKeyId,
      permissions: { read: true, write: true, owner: true },
    });
    const page = await openConsole(await browser(), suite.server);
    await signInUser(page, userKeys);
    await page.locator(`tr[data-bucket="${bucketName}"]`).waitFor();
    await page.goto(`${consoleUrl(suite.server)}#/buckets/${bucketName}/settings`);

    // Versioning, by keyboard: Space picks the radio, Tab reaches Save, Enter saves.
    const versioning = page.locator('form[aria-labelledby="versioning-title"]');
    await versioning.getByText('Never versioned').waitFor();
    await versioning.getByLabel('Enabled').focus();
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    t.is(await page.evaluate<string>('document.activeElement.textContent'), 'Save versioning');
    await page.keyboard.press('Enter');
    await versioning.getByRole('status').filter({ hasText: 'Versioning saved' }).waitFor();
    const xml = page.locator('pre[data-xml="versioning"]');
    t.true(((await xml.textContent()) ?? '').includes('<Status>Enabled</Status>'));
    const enabled = await suite.s3.send(new GetBucketVersioningCommand({ Bucket: bucketName }));
    t.is(enabled.Status, 'Enabled');
    await versioning.getByLabel('Suspended').check();
    await versioning.getByRole('button', { name: 'Save versioning' }).click();
    await waitUntil('versioning is suspended', async () => {
      const got = await suite.s3.send(new GetBucketVersioningCommand({ Bucket: bucketName }));
      return got.Status === 'Suspended';
    });
    t.true(((await xml.textContent()) ?? '').includes('<Status>Suspended</Status>'));
    // This bucket has no object lock: no retention form, a note instead.
    await page.locator('[data-object-lock="off"]').waitFor();
    t.is(await page.getByRole('heading', { name: 'Object lock default retention' }).count(), 0);

    // The policy: AWS's MalformedPolicy under the editor; a good one saved.
    const policy = page.locator('form[data-document="Policy"]');
    const editor = policy.getByRole('textbox');
    await policy.getByText('none set yet').waitFor();
    const statement = {
      Sid: 'keep',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:DeleteBucket',
      Resource: `arn:aws:s3:::${bucketName}`,
    };
    await editor.fill(
      JSON.stringify({ Version: '2012-10-17', Statement: [{ ...statement, Effect: 'Maybe' }] }),
    );
    await policy.getByRole('button', { name: 'Save policy' }).click();
    const refused = policy.getByRole('alert');
    await refused.waitFor();
    t.regex((await refused.textContent()) ?? '', /^MalformedPolicy: /);
    t.is(await editor.getAttribute('aria-invalid'), 'true');
    const good = { Version: '2012-10-17', Statement: [statement] };
    await editor.fill(JSON.stringify(good));
    await policy.getByRole('button', { name: 'Save policy' }).click();
    await policy.getByRole('status').filter({ hasText: 'Policy saved' }).waitFor();
    const stored = await suite.s3.send(new GetBucketPolicyCommand({ Bucket: bucketName }));
    t.deepEqual(JSON.parse(stored.Policy ?? ''), good);

    // A bucket with object lock: the default retention form, its XML beside it.
    await page.goto(`${consoleUrl(suite.server)}#/buckets/${locked}/settings`);
    const lock = page.locator('form[aria-labelledby="lock-title"]');
    await lock.getByLabel('Retention mode').selectOption('GOVERNANCE');
    await lock.getByLabel('Retention period').fill('0');
    await lock.getByRole('button', { name: 'Save object lock' }).click();
    await lock.getByRole('alert').waitFor();
    await lock.getByLabel('Retention period').fill('3');
    t.true(
      ((await page.locator('pre[data-xml="object-lock"]').textContent()) ?? '').includes(
        '<Mode>GOVERNANCE</Mode>',
      ),
    );
    await lock.getByRole('button', { name: 'Save object lock' }).click();
    await lock.getByRole('status').filter({ hasText: 'Object lock saved' }).waitFor();
    await page
      .locator('form[aria-labelledby="versioning-title"]')
      .evaluate((form) => (form as unknown as { scrollIntoView(): void }).scrollIntoView());
    await screenshot(page, 'protection');
    const configuration = await suite.s3.send(
      new GetObjectLockConfigurationCommand({ Bucket: locked }),
    );
    t.deepEqual(configuration.ObjectLockConfiguration, {
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 3 } },
    });
    await page.close();
  },
);

browserTest(
  'an operator imports and deletes a key, deletes an empty bucket, runs a scrub',
  async (t) => {
    const page = await openConsole(await browser(), suite.server);
    await signInOperator(page);
    await page.locator('.request-chart').waitFor();
    await page.getByRole('button', { name: 'Scrub: start' }).click();
    await waitUntil('the scrub has run', async () => {
      const workers = await adminCall(suite.server, 'POST', '/v2/ListWorkers?node=self', {});
      const scrub = Object.values(workers.json.success)
        .flat()
        .find((w) => (w as { name: string }).name.toLowerCase().includes('scrub')) as
        | { freeform: string[] }
        | undefined;
      return scrub !== undefined && !scrub.freeform.join(' ').includes('never');
    });
    t.is(await page.getByRole('alert').count(), 0);

    await page.getByRole('link', { name: 'Keys' }).click();
    const imported = { accessKeyId: 'GKconsoleimport0001', secretAccessKey: 'c'.repeat(64) };
    await page.getByLabel('Access key ID').fill(imported.accessKeyId);
    await page.getByLabel('Secret', { exact: true }).fill(imported.secretAccessKey);
    await page.getByLabel('Name', { exact: true }).fill('imported');
    await page.getByRole('button', { name: 'Import key' }).click();
    const row = page.locator(`tr[data-key-id="${imported.accessKeyId}"]`);
    await row.waitFor();
    t.is(
      (await adminCall(suite.server, 'GET', `/v2/GetKeyInfo?id=${imported.accessKeyId}`)).status,
      200,
    );
    await row.getByRole('button', { name: 'Delete' }).click();
    await row.waitFor({ state: 'detached' });
    t.is(
      (await adminCall(suite.server, 'GET', `/v2/GetKeyInfo?id=${imported.accessKeyId}`)).status,
      404,
    );

    await page.getByRole('link', { name: 'Buckets' }).click();
    const empty = page.locator(`tr[data-bucket="${hiddenBucket}"]`);
    await empty.getByRole('button', { name: 'Delete' }).click();
    await empty.waitFor({ state: 'detached' });
    t.is(
      (await adminCall(suite.server, 'GET', `/v2/GetBucketInfo?globalAlias=${hiddenBucket}`))
        .status,
      404,
    );
    await page.close();
  },
);
