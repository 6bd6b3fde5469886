import { COMMON_HTML, CURRENCY, EntityDecoder, XML } from '@nodable/entities';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3Error } from './errors.js';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/**
 * A JSON-like XML document: element name → text, number, child object, or array of repeats.
 * Two names are special: `#text` (escaped text) and `#raw` (markup rendered beforehand, written
 * as it is: listings write their 1000 entries straight into one string).
 */
export type XmlValue = string | number | boolean | XmlNode | XmlValue[] | undefined;
export interface XmlNode {
  [name: string]: XmlValue;
}

/**
 * Renders `<root xmlns=...>...</root>` with the XML declaration S3 sends. Hand-written rather
 * than fast-xml-parser's XMLBuilder: a 1000-key listing renders 3 to 4 times faster
 * (bench/micro/xml.bench.ts), and listings are the largest documents hangar writes.
 */
export function renderXml(root: string, body: XmlNode, xmlns = true): string {
  const open = xmlns ? `<${root} xmlns="${S3_XMLNS}">` : `<${root}>`;
  return `${DECLARATION}${open}${renderChildren(body)}</${root}>`;
}

function renderChildren(node: XmlNode): string {
  let out = '';
  for (const name in node) out += renderElement(name, node[name]);
  return out;
}

export const RAW = '#raw';

/** One element (or its repeats) as markup, for documents partly rendered by hand (RawXml). */
export function renderElement(name: string, value: XmlValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) {
    let out = '';
    for (const item of value) out += renderElement(name, item);
    return out;
  }
  if (name === '#text') return escapeXml(String(value));
  if (name === RAW) return String(value);
  if (typeof value === 'object') return `<${name}>${renderChildren(value)}</${name}>`;
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

const NEEDS_ESCAPE = /[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f]/;
const ESCAPE_ALL = /[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Escapes text for XML; control characters (keys may hold them) become character references. */
export function escapeXml(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text.replace(ESCAPE_ALL, (c) => ENTITIES[c] ?? `&#x${c.charCodeAt(0).toString(16)};`);
}

/**
 * Character references decode to the character they name, control characters included:
 * listings write a key's control characters as `&#x1;` (escapeXml), and a client that sends that
 * key back in DeleteObjects must delete that key, not one with the character silently dropped
 * (the XML 1.0 default of fast-xml-parser's decoder). `&#0;` names no key and is refused.
 * Numeric references (`&#34;` from Go's encoding/xml, as rclone sends ETags) and the HTML entity
 * table stay decoded as before.
 */
class ReferenceDecoder extends EntityDecoder {
  /**
   * fast-xml-parser calls this with a document's `<?xml version="1.0"?>`, and the setting
   * outlives that document in a shared decoder: the next one would lose its control characters.
   */
  override setXmlVersion(): void {}
}

export const entityDecoder = new ReferenceDecoder({
  namedEntities: { ...XML, ...COMMON_HTML, ...CURRENCY },
  numericAllowed: true,
  ncr: { xmlVersion: 1.1, nullNCR: 'throw' },
});

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
  entityDecoder,
  ignoreDeclaration: true,
  removeNSPrefix: true,
  // Repeated elements are always arrays, whatever their count, so handlers need not guess.
  isArray: (name) => ['Object', 'Part', 'CORSRule', 'Rule', 'Tag'].includes(name),
});

/**
 * Markup declarations (`<!DOCTYPE`, `<!ENTITY`, `<!ELEMENT`, …): anything that opens with `<!`
 * and is neither a comment nor a CDATA section. S3 documents never carry them, and a DOCTYPE
 * lets a client define entities: expansion bombs, or values the signature's reader and ours
 * would read differently.
 */
const MARKUP_DECLARATION = /<!(?!--|\[CDATA\[)/;

/**
 * Characters XML 1.0 does not allow in a document, written raw. fast-xml-parser's validator lets
 * them through; AWS answers MalformedXML. (Written as character references they are decoded.)
 */
const FORBIDDEN_RAW_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

/**
 * Parses a request body; malformed XML, any DOCTYPE or entity declaration, a raw control
 * character, `&#0;`, or the wrong root element is MalformedXML.
 */
export function parseXml(text: string, root: string): XmlNode {
  if (text.trim() === '' || MARKUP_DECLARATION.test(text) || FORBIDDEN_RAW_CHAR.test(text)) {
    throw new S3Error('MalformedXML');
  }
  if (XMLValidator.validate(text) !== true) throw new S3Error('MalformedXML');
  const doc = parseValidated(text);
  const node = doc[root];
  if (node === undefined) throw new S3Error('MalformedXML');
  return typeof node === 'object' && !Array.isArray(node) ? node : {};
}

/**
 * fast-xml-parser refuses, with a plain Error, element names that could pollute prototypes
 * (`<constructor>`, `<__proto__>`) after XMLValidator accepted them, and its entity decoder
 * throws on `&#0;`: that is a client's malformed document, not an internal error.
 */
function parseValidated(text: string): XmlNode {
  try {
    return parser.parse(text) as XmlNode;
  } catch {
    throw new S3Error('MalformedXML');
  }
}

export function textOf(value: XmlValue): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

const DAY_MS = 86_400_000;
/** 10000-01-01: past it toISOString writes a six-digit signed year. */
const FOUR_DIGIT_YEARS_END_MS = 253_402_300_800_000;
let cachedDay = Number.NaN;
let cachedDate = '';

/**
 * ISO-8601 with milliseconds, as S3 writes timestamps in XML; exactly Date#toISOString. A
 * listing writes 1000 a page and toISOString cost a third of the XML's time: the date part is
 * cached per day (a listing's objects are mostly written on few days), the time built by hand.
 */
export function isoTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= FOUR_DIGIT_YEARS_END_MS) {
    return new Date(ms).toISOString();
  }
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDate = new Date(day * DAY_MS).toISOString().slice(0, 11);
  }
  let rest = ms - day * DAY_MS;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  return `${cachedDate}${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/** Unknown elements fail schema validation; whitespace between elements is not an element. */
export function checkElements(node: XmlNode, known: ReadonlySet<string> | readonly string[]): void {
  const isKnown = (name: string): boolean =>
    Array.isArray(known) ? known.includes(name) : (known as ReadonlySet<string>).has(name);
  for (const name in node) {
    if (isKnown(name)) continue;
    if (name === '#text' && (textOf(node[name]) ?? '').trim() === '') continue;
    throw new S3Error('MalformedXML');
  }
}

/** An element that holds elements (an empty one: none); anything else is MalformedXML. */
export function elementOf(value: XmlValue): XmlNode {
  if (typeof value === 'string' && value.trim() === '') return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new S3Error('MalformedXML');
  }
  return value;
}

/** The text of a repeatable element: one or many, each plain text. */
export function texts(value: XmlValue): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => {
    const text = textOf(item);
    if (text === undefined) throw new S3Error('MalformedXML');
    return text;
  });
}

/** A child element that must be a single text node (absent: undefined). */
export function optionalText(node: XmlNode, name: string): string | undefined {
  const value = node[name];
  if (value === undefined) return undefined;
  const text = textOf(value);
  if (text === undefined) throw new S3Error('MalformedXML');
  return text;
}
