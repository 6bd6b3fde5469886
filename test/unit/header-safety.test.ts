import test from 'ava';
import fc from 'fast-check';
import { firstUnsafeHeader, isHeaderName, isHeaderValue } from '../../http/uws/header-safety.js';

/**
 * The invariant the header writer relies on: a header section built only from headers that
 * firstUnsafeHeader accepts reads back, line by line, as exactly those headers. No accepted name
 * or value can end a line, start another header, or end the section early.
 */

const anyText = fc.string({ unit: 'binary', maxLength: 40 });
const headerish = fc.oneof(
  anyText,
  fc.constantFrom('x\r\nSet-Cookie: a=1', 'a\nb', 'a\rb', 'a\u0000', 'tab\tok', 'é ü', 'x: y'),
);

const names = fc.oneof(fc.constantFrom('x-a', 'ETag', 'x-amz-meta-k', 'location'), headerish);

test('accepted headers serialize to exactly one line each', (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(names, headerish), { maxLength: 8 }), (headers) => {
      if (firstUnsafeHeader(headers) !== null) return true;
      const section = headers.map(([name, value]) => `${name}: ${value}\r\n`).join('');
      // Read back as a lenient client does: a bare CR or LF ends a line too.
      const lines = section.split(/\r\n|\r|\n/).slice(0, -1);
      return (
        lines.length === headers.length &&
        lines.every((line, i) => line.slice(0, line.indexOf(':')) === headers[i]?.[0])
      );
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test('names are RFC 9110 tokens; values may hold HTAB and non-ASCII but no other control', (t) => {
  for (const name of ['x-amz-meta-a', 'ETag', '*', "a!#$%&'*+-.^_`|~z"]) t.true(isHeaderName(name));
  for (const name of ['', 'a b', 'a:b', 'a\r\nb', 'é', 'a"b', 'a(b)']) t.false(isHeaderName(name));
  for (const value of ['', 'tab\there', 'é ü', '"quoted"; x=1']) t.true(isHeaderValue(value));
  for (let code = 0; code < 0x20; code++) {
    if (code !== 0x09) t.false(isHeaderValue(`a${String.fromCharCode(code)}b`), `0x${code}`);
  }
  t.false(isHeaderValue('a\x7fb'));
});
