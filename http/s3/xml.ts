import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3Error } from './errors.js';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** A JSON-like XML document: element name → text, number, child object, or array of repeats. */
export type XmlValue = string | number | boolean | XmlNode | XmlValue[] | undefined;
export interface XmlNode {
  [name: string]: XmlValue;
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  suppressEmptyNode: false,
  processEntities: true,
});

/** Renders `<root xmlns=...>...</root>` with the XML declaration S3 sends. */
export function renderXml(root: string, body: XmlNode, xmlns = true): string {
  const node = xmlns ? { '@_xmlns': S3_XMLNS, ...body } : body;
  return DECLARATION + (builder.build({ [root]: node }) as string);
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  // Numeric character references (&#34; from Go's encoding/xml, as rclone sends ETags) are XML;
  // fast-xml-parser decodes them only with its HTML entity table on.
  htmlEntities: true,
  ignoreDeclaration: true,
  removeNSPrefix: true,
  // Repeated elements are always arrays, whatever their count, so handlers need not guess.
  isArray: (name) => ['Object', 'Part', 'CORSRule', 'Rule', 'Tag'].includes(name),
});

/** Parses a request body; malformed XML or the wrong root element is MalformedXML. */
export function parseXml(text: string, root: string): XmlNode {
  if (text.trim() === '' || XMLValidator.validate(text) !== true) throw new S3Error('MalformedXML');
  const doc = parser.parse(text) as XmlNode;
  const node = doc[root];
  if (node === undefined) throw new S3Error('MalformedXML');
  return typeof node === 'object' && !Array.isArray(node) ? node : {};
}

export function textOf(value: XmlValue): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** ISO-8601 with milliseconds, as S3 writes timestamps in XML. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
