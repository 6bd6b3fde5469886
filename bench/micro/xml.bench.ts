/**
 * Rendering a full ListObjectsV2 page (1000 keys) from the node shape http/s3/handlers/list.ts
 * builds: hangar's renderXml (hand-written since this benchmark showed fast-xml-parser's
 * XMLBuilder costing 3-4x more), the library's XMLBuilder it replaced, and a reference that
 * writes the same document with template strings (the floor). The self-check asserts all three
 * write identical bytes.
 */
import { XMLBuilder } from 'fast-xml-parser';
import { isoTime, renderXml, S3_XMLNS, type XmlNode } from '../../http/s3/xml.js';
import {
  check,
  type MicroOptions,
  type MicroResult,
  newBench,
  REF_PREFIX,
  runGroup,
} from './harness.js';

const KEYS = 1000;

interface Entry {
  key: string;
  lastModifiedMs: number;
  etag: string;
  bytes: number;
}

function entries(): Entry[] {
  return Array.from({ length: KEYS }, (_, i) => ({
    // Every 50th key carries characters that must be escaped.
    key: `photos/2024/${String(i % 12).padStart(2, '0')}/IMG_${String(i).padStart(6, '0')}${i % 50 === 0 ? ' & <raw>' : ''}.jpg`,
    lastModifiedMs: Date.UTC(2024, 4, 1) + i * 61_000,
    etag: `"${(0x1234567 * (i + 1)).toString(16).padStart(32, '0').slice(-32)}"`,
    bytes: 1024 * (i + 1),
  }));
}

/** The body handleListObjectsV2 passes to sendXml for a truncated page without delimiter. */
function listNode(list: readonly Entry[]): XmlNode {
  return {
    Name: 'photos',
    Prefix: '',
    NextContinuationToken: 'cGhvdG9zLzIwMjQvMDcvSU1HXzAwMDk5OS5qcGc',
    KeyCount: list.length,
    MaxKeys: 1000,
    IsTruncated: true,
    Contents: list.map((e) => ({
      Key: e.key,
      LastModified: isoTime(e.lastModifiedMs),
      ETag: e.etag,
      Size: e.bytes,
      StorageClass: 'STANDARD',
    })),
    CommonPrefixes: [],
  };
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};
const NEEDS_ESCAPE = /[&<>"']/g;

function esc(text: string): string {
  return text.replace(NEEDS_ESCAPE, (ch) => ESCAPES[ch] ?? ch);
}

/** Hand-written renderer of the same document. */
function renderTemplate(list: readonly Entry[]): string {
  let out = `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="${S3_XMLNS}"><Name>photos</Name><Prefix></Prefix><NextContinuationToken>cGhvdG9zLzIwMjQvMDcvSU1HXzAwMDk5OS5qcGc</NextContinuationToken><KeyCount>${list.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>`;
  for (const e of list) {
    out += `<Contents><Key>${esc(e.key)}</Key><LastModified>${isoTime(e.lastModifiedMs)}</LastModified><ETag>${esc(e.etag)}</ETag><Size>${e.bytes}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
  }
  return `${out}</ListBucketResult>`;
}

const libraryBuilder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  processEntities: true,
});

/** The same document through fast-xml-parser's XMLBuilder (hangar's renderer before). */
function renderWithLibrary(node: XmlNode): string {
  const doc = { ListBucketResult: { '@_xmlns': S3_XMLNS, ...node } };
  return `<?xml version="1.0" encoding="UTF-8"?>\n${libraryBuilder.build(doc) as string}`;
}

export async function run(opts: MicroOptions): Promise<MicroResult[]> {
  const list = entries();
  const viaRenderer = renderXml('ListBucketResult', listNode(list));
  check(viaRenderer === renderTemplate(list), 'renderXml writes the reference document');
  check(renderWithLibrary(listNode(list)) === viaRenderer, 'XMLBuilder writes the same document');

  let sink = 0;
  const bench = newBench('xml', opts)
    .add('renderXml ListObjectsV2 1000 keys (incl. node build)', () => {
      sink += renderXml('ListBucketResult', listNode(list)).length;
    })
    .add('fast-xml-parser XMLBuilder, same document (replaced)', () => {
      sink += renderWithLibrary(listNode(list)).length;
    })
    .add(`${REF_PREFIX}template strings + escape`, () => {
      sink += renderTemplate(list).length;
    });
  const results = await runGroup('xml', bench);
  check(sink > 0, 'work was done');
  return results;
}
