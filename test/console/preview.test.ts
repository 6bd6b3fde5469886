// The console in a real browser (Debian's Chromium through playwright-core): an object's PDF and
// text previews, and the copy buttons (a new key's secret, a presigned share link), read back
// from the browser's clipboard.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import type { BrowserContext, Page } from 'playwright-core';
import { adminCall } from '../helpers/admin.js';
import { useChromium } from '../helpers/chromium.js';
import { openConsole, signInOperator, signInUser } from '../helpers/console.js';
import { useServer } from '../helpers/server.js';

const suite = useServer(test);
const { browserTest, browser } = useChromium(test, 'console preview browser tests');
const BUCKET = `console-preview-${process.pid}`;

/** A minimal valid one-page PDF saying `text`, its xref offsets counted. */
function onePagePdf(text: string): Buffer {
  const stream = `BT /F1 24 Tf 72 720 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let pdf = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(pdf.length);
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) pdf += `${String(offset).padStart(10, '0')} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

async function clipboardOf(page: Page): Promise<string> {
  // A string: the tests compile without the DOM's types.
  return page.evaluate<string>('navigator.clipboard.readText()');
}

async function withClipboard(): Promise<BrowserContext> {
  const context = await browser();
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], {
    origin: new URL(suite.server.adminEndpoint).origin,
  });
  return context;
}

/** The object's details panel, opened from the bucket's listing. */
async function openDetails(page: Page, key: string) {
  await page.getByRole('button', { name: 'Refresh' }).click();
  await page
    .locator(`tr[data-key="${key}"]`)
    .getByRole('button', { name: key, exact: true })
    .click();
  const details = page.getByRole('complementary', { name: `Object ${key}` });
  await details.locator('dt', { hasText: 'ETag' }).waitFor();
  return details;
}

browserTest('a new key secret is copied to the clipboard by its button', async (t) => {
  const page = await openConsole(await withClipboard(), suite.server);
  await signInOperator(page);
  await page.getByRole('link', { name: 'Keys' }).click();
  await page.getByLabel('New key name').fill('copied');
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = (await page.locator('[data-created-secret]').textContent()) ?? '';
  t.regex(secret, /^\S{32,}$/);
  await page.evaluate("navigator.clipboard.writeText('before')");
  await page.getByRole('button', { name: 'Copy secret' }).click();
  t.is(await clipboardOf(page), secret);
  await page.close();
});

browserTest('a PDF previews in a frame, other types as text; the share link copies', async (t) => {
  const created = await adminCall(suite.server, 'POST', '/v2/CreateKey', { name: 'preview' });
  const keys = {
    accessKeyId: created.json.accessKeyId as string,
    secretAccessKey: created.json.secretAccessKey as string,
  };
  const bucket = await adminCall(suite.server, 'POST', '/v2/CreateBucket', {
    globalAlias: BUCKET,
  });
  await adminCall(suite.server, 'POST', '/v2/AllowBucketKey', {
    bucketId: bucket.json.id,
    accessKeyId: keys.accessKeyId,
    permissions: { read: true, write: true, owner: true },
  });
  const pdf = onePagePdf('Hello from hangar');
  await suite.s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: 'doc.pdf',
      Body: pdf,
      ContentType: 'application/pdf',
    }),
  );
  const json = '{"preview": "as text"}\n';
  await suite.s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: 'data.json',
      Body: json,
      ContentType: 'application/json',
    }),
  );

  const page = await openConsole(await withClipboard(), suite.server);
  await signInUser(page, keys);
  await page.locator(`tr[data-bucket="${BUCKET}"]`).getByRole('link', { name: BUCKET }).click();
  await page.getByRole('heading', { name: `Buckets / ${BUCKET}` }).waitFor();

  const details = await openDetails(page, 'doc.pdf');
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().startsWith(`${suite.server.endpoint}/${BUCKET}/doc.pdf?`)),
    details.getByRole('button', { name: 'Preview' }).click(),
  ]);
  t.is(response.status(), 200);
  t.is(response.headers()['content-type'], 'application/pdf');
  // The frame's own view of the body is Chromium's PDF viewer (it took the PDF); the link
  // itself answers the stored bytes.
  t.deepEqual(Buffer.from(await (await fetch(response.url())).arrayBuffer()), pdf);
  const frame = details.locator('iframe.preview');
  t.is(await frame.getAttribute('title'), 'Preview of doc.pdf');
  t.is(await frame.getAttribute('src'), response.url());
  t.is(await details.locator('pre.preview').count(), 0);

  await details.getByRole('button', { name: 'Create share link' }).click();
  const url = await details.locator('input[name="shareUrl"]').inputValue();
  t.true(url.startsWith(`${suite.server.endpoint}/${BUCKET}/doc.pdf?`), url);
  await details.getByRole('button', { name: 'Copy', exact: true }).click();
  t.is(await clipboardOf(page), url);
  await details.getByRole('button', { name: 'Close' }).click();

  const jsonDetails = await openDetails(page, 'data.json');
  await jsonDetails.getByRole('button', { name: 'Preview' }).click();
  await jsonDetails.locator('pre.preview').waitFor();
  t.is(await jsonDetails.locator('pre.preview').textContent(), json);
  t.is(await jsonDetails.locator('iframe.preview').count(), 0);
  t.is(await page.getByRole('alert').count(), 0);
  await page.close();
});
