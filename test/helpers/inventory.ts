import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parquetReadObjects } from 'hyparquet';
import { onNode } from './admin.js';
import { eventually } from './fsck.js';
import { objectBytes, type TestServer } from './server.js';

export interface InventoryManifest {
  sourceBucket: string;
  destinationBucket: string;
  version: string;
  creationTimestamp: string;
  fileFormat: string;
  fileSchema: string;
  files: Array<{ key: string; size: number; MD5checksum: string }>;
}

/** Every key of `bucket` under `prefix`. */
export async function keysUnder(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key ?? '');
}

/** Asks the server for an inventory run now (admin LaunchRepairOperation "inventory"). */
export async function launchInventory(server: TestServer): Promise<void> {
  const answer = await onNode(server, 'POST', 'LaunchRepairOperation', { repairType: 'inventory' });
  if (answer.status !== 200) throw new Error(`LaunchRepairOperation: ${answer.status}`);
}

/** Waits for a manifest.json under `prefix` that is not one of `seen`; its key. */
export async function nextManifest(
  s3: S3Client,
  bucket: string,
  prefix: string,
  seen: readonly string[] = [],
): Promise<string> {
  let found: string | undefined;
  const ok = await eventually(async () => {
    const keys = await keysUnder(s3, bucket, prefix);
    found = keys.find((k) => k.endsWith('/manifest.json') && !seen.includes(k));
    // The checksum is written after the manifest: wait for both.
    return found !== undefined && keys.includes(found.replace(/json$/, 'checksum'));
  }, 20_000);
  if (!ok || found === undefined) throw new Error(`no new manifest under ${bucket}/${prefix}`);
  return found;
}

/** The manifest at `key`, its checksum checked, and the CSV rows of its data files. */
export async function readReport(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ manifest: InventoryManifest; checksumOk: boolean; rows: string[][] }> {
  const { manifest, checksumOk, files } = await readManifest(s3, bucket, key);
  const rows: string[][] = [];
  for (const gz of files) {
    for (const line of gunzipSync(gz).toString('utf8').split('\n')) {
      if (line !== '') rows.push(parseCsvLine(line));
    }
  }
  return { manifest, checksumOk, rows };
}

/** The same for a Parquet report: its rows as hyparquet reads them back (column name to value). */
export async function readParquetReport(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{
  manifest: InventoryManifest;
  checksumOk: boolean;
  rows: Array<Record<string, unknown>>;
}> {
  const { manifest, checksumOk, files } = await readManifest(s3, bucket, key);
  const rows: Array<Record<string, unknown>> = [];
  for (const body of files) {
    const file = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength);
    rows.push(...(await parquetReadObjects({ file: file as ArrayBuffer })));
  }
  return { manifest, checksumOk, rows };
}

/** The manifest, whether manifest.checksum is its MD5, and its data files (size and MD5 checked). */
async function readManifest(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ manifest: InventoryManifest; checksumOk: boolean; files: Buffer[] }> {
  const manifestBytes = await objectBytes(s3, bucket, key);
  const checksum = (await objectBytes(s3, bucket, key.replace(/json$/, 'checksum'))).toString();
  const md5 = createHash('md5').update(manifestBytes).digest('hex');
  const manifest = JSON.parse(manifestBytes.toString()) as InventoryManifest;
  const files: Buffer[] = [];
  for (const file of manifest.files) {
    const body = await objectBytes(s3, bucket, file.key);
    if (body.length !== file.size)
      throw new Error(`${file.key}: size ${body.length} != ${file.size}`);
    if (createHash('md5').update(body).digest('hex') !== file.MD5checksum) {
      throw new Error(`${file.key}: MD5 differs from the manifest's`);
    }
    files.push(body);
  }
  return { manifest, checksumOk: checksum.trim() === md5, files };
}

/** One CSV line of quoted fields ("" inside a field is a quote). */
function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  const re = /"((?:[^"]|"")*)"(?:,|$)/gy;
  let match: RegExpExecArray | null = re.exec(line);
  while (match !== null) {
    fields.push((match[1] ?? '').replaceAll('""', '"'));
    if (re.lastIndex >= line.length) break;
    match = re.exec(line);
  }
  return fields;
}
