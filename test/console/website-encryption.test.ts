// The console's website and default-encryption forms in a real browser (Debian's Chromium
// through playwright-core): a website saved through the form read back through S3 and served by
// the website endpoint, S3's refusal of a routing rule shown at its field, redirect-all kept
// apart from documents; and the encryption form choosing a KMS key from the operator's list.
import {
  GetBucketEncryptionCommand,
  GetBucketWebsiteCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import type { Page } from 'playwright-core';
import { useChromium } from '../helpers/chromium.js';
import { openAsRootOperator, screenshot, waitUntil } from '../helpers/console.js';
import { newBucket, s3Failure, useServer } from '../helpers/server.js';
import { createKmsKey } from '../helpers/sse.js';
import { makePublicRead, webRequest } from '../helpers/website.js';

const suite = useServer(test);
const { browserTest, browser } = useChromium(test, 'console website/encryption browser tests', [
  '--window-size=1280,900',
]);

/** The operator, with the root key too (S3 settings need keys), on `hash`. */
async function openAsOperator(hash: string): Promise<Page> {
  return openAsRootOperator(await browser(), suite.server, hash);
}

browserTest('website is a form: refused at the field, saved, read back, served', async (t) => {
  const bucket = await newBucket(suite.s3, 'console-website');
  await makePublicRead(suite.s3, bucket);
  await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'index.html', Body: '<h1>home</h1>' }),
  );
  await suite.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'docs/index.html', Body: 'docs home' }),
  );
  const page = await openAsOperator(`#/buckets/${bucket}/settings`);
  const form = page.locator('form[data-config="website"]');
  const save = form.getByRole('button', { name: 'Save website' });
  await save.waitFor();
  await t.throwsAsync(suite.s3.send(new GetBucketWebsiteCommand({ Bucket: bucket })));
  await form.getByLabel('Error document key (empty: none)').fill('error.html');
  await form.getByRole('button', { name: 'Add routing rule' }).click();
  await form.getByRole('button', { name: 'Add routing rule' }).click();
  const first = form.locator('fieldset[data-routing-rule="0"]');
  await first.getByLabel('Key prefix equals').fill('old/');
  await first.getByLabel('Replace key prefix with').fill('docs/');
  await first.getByLabel('HTTP redirect code').fill('301');
  const second = form.locator('fieldset[data-routing-rule="1"]');
  await second.getByLabel('HTTP error code returned equals').fill('404');
  await second.getByLabel('Host name').fill('example.com');
  await second.getByLabel('Protocol').selectOption('https');
  // Both replacements in one rule: S3 refuses, and its message stands under that rule's field.
  await second.getByLabel('Replace key prefix with').fill('missing/');
  await second.getByLabel('Replace key with').fill('gone.html');
  await save.click();
  const problem = second.locator('.field-error');
  await problem.waitFor();
  t.is(
    await problem.textContent(),
    'InvalidArgument: You can only define ReplaceKeyPrefix or ReplaceKey but not both.',
  );
  const field = second.getByLabel('Replace key prefix with');
  t.is(await field.getAttribute('aria-invalid'), 'true');
  t.is(await field.getAttribute('aria-describedby'), await problem.getAttribute('id'));
  t.is(await first.locator('.field-error').count(), 0);
  await second.evaluate((rule) => (rule as unknown as { scrollIntoView(): void }).scrollIntoView());
  await screenshot(page, 'website');

  await field.fill('');
  await save.click();
  await form.getByRole('status').filter({ hasText: 'Website saved' }).waitFor();
  const xml = (await page.locator('pre[data-xml="website"]').textContent()) ?? '';
  for (const element of [
    '<Suffix>index.html</Suffix>',
    '<Key>error.html</Key>',
    '<KeyPrefixEquals>old/</KeyPrefixEquals>',
    '<HttpErrorCodeReturnedEquals>404</HttpErrorCodeReturnedEquals>',
    '<ReplaceKeyWith>gone.html</ReplaceKeyWith>',
  ]) {
    t.true(xml.includes(element), `${element} in\n${xml}`);
  }
  const stored = await suite.s3.send(new GetBucketWebsiteCommand({ Bucket: bucket }));
  t.like(stored, { IndexDocument: { Suffix: 'index.html' }, ErrorDocument: { Key: 'error.html' } });
  t.deepEqual(
    stored.RoutingRules?.map((rule) => ({ Condition: rule.Condition, Redirect: rule.Redirect })),
    [
      {
        Condition: { KeyPrefixEquals: 'old/' },
        Redirect: { ReplaceKeyPrefixWith: 'docs/', HttpRedirectCode: '301' },
      },
      {
        Condition: { HttpErrorCodeReturnedEquals: '404' },
        Redirect: { HostName: 'example.com', Protocol: 'https', ReplaceKeyWith: 'gone.html' },
      },
    ],
  );
  const host = `${bucket}.web.localhost`;
  const home = await webRequest(suite.server.webPort, host, '/');
  t.is(home.status, 200);
  t.is(home.body, '<h1>home</h1>');
  const moved = await webRequest(suite.server.webPort, host, '/old/index.html');
  t.is(moved.status, 301);
  t.regex(String(moved.headers.location), /\/docs\/index\.html$/);

  // Read back into the form on a fresh load.
  await page.reload();
  await form.locator('fieldset[data-routing-rule="1"]').waitFor();
  t.is(await first.getByLabel('Key prefix equals').inputValue(), 'old/');
  t.is(await second.getByLabel('Protocol').inputValue(), 'https');
  t.is(await form.getByLabel('Error document key (empty: none)').inputValue(), 'error.html');

  // Redirect-all replaces the documents: the form sends only that side.
  await form.getByLabel('Redirect every request to another host').check();
  t.is(await form.getByLabel('Index document suffix').count(), 0);
  await form.getByLabel('Redirect to host name').fill('www.example.org');
  await form.getByLabel('Redirect protocol').selectOption('https');
  await save.click();
  await form.getByRole('status').filter({ hasText: 'Website saved' }).waitFor();
  const redirected = await suite.s3.send(new GetBucketWebsiteCommand({ Bucket: bucket }));
  t.deepEqual(redirected.RedirectAllRequestsTo, { HostName: 'www.example.org', Protocol: 'https' });
  t.is(redirected.IndexDocument, undefined);
  const away = await webRequest(suite.server.webPort, host, '/a');
  t.is(away.status, 301);
  t.is(away.headers.location, 'https://www.example.org/a');

  await form.getByRole('button', { name: 'Delete website' }).click();
  await form.getByRole('status').filter({ hasText: 'Website removed' }).waitFor();
  const none = await s3Failure(suite.s3.send(new GetBucketWebsiteCommand({ Bucket: bucket })));
  t.is(none.name, 'NoSuchWebsiteConfiguration');
  await page.close();
});

browserTest('an empty index suffix is refused at its field', async (t) => {
  const bucket = await newBucket(suite.s3, 'console-website-index');
  const page = await openAsOperator(`#/buckets/${bucket}/settings`);
  const form = page.locator('form[data-config="website"]');
  const suffix = form.getByLabel('Index document suffix');
  await form.getByRole('button', { name: 'Save website' }).waitFor();
  await suffix.fill('');
  await form.getByRole('button', { name: 'Save website' }).click();
  const problem = form.locator('.field-error');
  await problem.waitFor();
  t.is(await problem.textContent(), 'InvalidArgument: The IndexDocument Suffix is not well formed');
  t.is(await suffix.getAttribute('aria-describedby'), await problem.getAttribute('id'));
  await page.close();
});

browserTest('default encryption: SSE-KMS with a key from the list, read back', async (t) => {
  const bucket = await newBucket(suite.s3, 'console-encryption');
  const key = await createKmsKey(suite.server, 'alias/console-key');
  const page = await openAsOperator(`#/buckets/${bucket}/settings`);
  const form = page.locator('form[data-config="encryption"]');
  const save = form.getByRole('button', { name: 'Save encryption' });
  await save.waitFor();
  t.is(await form.getByLabel('Encryption type').inputValue(), 'AES256');
  await form.getByLabel('Encryption type').selectOption('aws:kms');
  await form.getByLabel('KMS key').selectOption({ label: 'alias/console-key' });
  await form.getByLabel('Bucket key enabled').check();
  t.true(
    ((await page.locator('pre[data-xml="encryption"]').textContent()) ?? '').includes(
      `<KMSMasterKeyID>${key.arn}</KMSMasterKeyID>`,
    ),
  );
  await save.click();
  await form.getByRole('status').filter({ hasText: 'Encryption saved' }).waitFor();
  const stored = await suite.s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
  t.like(stored.ServerSideEncryptionConfiguration?.Rules?.[0], {
    ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: key.arn },
    BucketKeyEnabled: true,
  });
  await page.reload();
  // The key list and the stored configuration come separately: the select shows both once read.
  await waitUntil('the stored key is chosen', async () => {
    const select = form.getByLabel('KMS key');
    return (await select.count()) === 1 && (await select.inputValue()) === key.arn;
  });
  t.true(await form.getByLabel('Bucket key enabled').isChecked());
  await form.evaluate((element) =>
    (element as unknown as { scrollIntoView(): void }).scrollIntoView(),
  );
  await screenshot(page, 'encryption');

  // Back to SSE-S3 through the form.
  await form.getByLabel('Encryption type').selectOption('AES256');
  await save.click();
  await form.getByRole('status').filter({ hasText: 'Encryption saved' }).waitFor();
  const sseS3 = await suite.s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
  t.like(sseS3.ServerSideEncryptionConfiguration?.Rules?.[0], {
    ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
  });
  t.is(
    sseS3.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault
      ?.KMSMasterKeyID,
    undefined,
  );
  await page.close();
});
