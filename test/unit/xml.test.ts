import test from 'ava';
import fc from 'fast-check';
import { S3Error } from '../../http/s3/errors.js';
import { parseXml } from '../../http/s3/xml.js';

const TAGGING = '<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof S3Error) return error.code;
    throw error;
  }
  return undefined;
}

/** Markup declarations a DTD may hold, and the DOCTYPE that holds them. */
const DECLARATIONS = [
  '<!DOCTYPE Tagging>',
  '<!DOCTYPE Tagging [<!ENTITY v "expanded">]>',
  '<!doctype Tagging SYSTEM "file:///etc/passwd">',
  '<!ENTITY v "x">',
  '<!ELEMENT Tagging ANY>',
  '<!ATTLIST Tag a CDATA #IMPLIED>',
  '<!NOTATION n SYSTEM "n">',
];

test('a DOCTYPE or any markup declaration, anywhere in the document, is MalformedXML', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(
        fc.constantFrom(...DECLARATIONS),
        fc.integer({ min: 0, max: TAGGING.length }),
        fc.boolean(),
        (declaration, at, withProlog) => {
          // Inserted between two tags, or before the root (with or without the XML declaration).
          const cut = TAGGING.lastIndexOf('>', at - 1) + 1;
          const body = `${TAGGING.slice(0, cut)}${declaration}${TAGGING.slice(cut)}`;
          const text = withProlog ? `<?xml version="1.0"?>\n${body}` : body;
          return codeOf(() => parseXml(text, 'Tagging')) === 'MalformedXML';
        },
      ),
    ),
  );
});

test('an entity bomb is refused before anything expands', (t) => {
  const levels = Array.from(
    { length: 10 },
    (_, i) => `<!ENTITY e${i + 1} "${`&e${i};`.repeat(10)}">`,
  ).join('');
  const bomb = `<!DOCTYPE Tagging [<!ENTITY e0 "lol">${levels}]><Tagging><TagSet><Tag><Key>k</Key><Value>&e10;</Value></Tag></TagSet></Tagging>`;
  t.is(
    codeOf(() => parseXml(bomb, 'Tagging')),
    'MalformedXML',
  );
});

test('comments and CDATA sections are still XML', (t) => {
  const doc = parseXml(
    '<?xml version="1.0"?><!-- a comment --><Tagging><TagSet><Tag><Key><![CDATA[a<b]]></Key><Value>&amp;&#34;</Value></Tag></TagSet></Tagging>',
    'Tagging',
  );
  t.deepEqual(doc, { TagSet: { Tag: [{ Key: 'a<b', Value: '&"' }] } });
});

test('random text never throws anything but an S3Error', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        codeOf(() => parseXml(text, 'Tagging'));
        codeOf(() => parseXml(`<Tagging>${text}</Tagging>`, 'Tagging'));
        return true;
      }),
    ),
  );
});

test('control characters: a character reference decodes to the character, written raw is MalformedXML', (t) => {
  const keyOf = (text: string): unknown =>
    parseXml(`<Delete><Object><Key>${text}</Key></Object></Delete>`, 'Delete')['Object'];
  // A document declaring XML 1.0 first: its version must not carry over to the next document.
  parseXml(
    '<?xml version="1.0" encoding="UTF-8"?><Delete><Object><Key>k</Key></Object></Delete>',
    'Delete',
  );
  // JSON: the parser's nodes are not plain objects, which deepEqual would compare too.
  t.is(JSON.stringify(keyOf('a&#x1;b&#31;c&#13;')), JSON.stringify([{ Key: 'a\u0001b\u001fc\r' }]));
  for (const bad of ['a\u0001b', 'a\u0000b', 'a\u000bb', 'a\uffffb', 'a&#0;b', 'a&#x0;b']) {
    t.is(
      codeOf(() => keyOf(bad)),
      'MalformedXML',
      JSON.stringify(bad),
    );
  }
});
