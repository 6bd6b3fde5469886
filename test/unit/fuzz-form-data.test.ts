/**
 * Property tests of the PostObject multipart/form-data parser (http/s3/form-data.ts): any split of
 * a valid form parses to the same fields and file bytes; random and mutated forms, boundaries and
 * Content-Disposition values only ever fail with an S3Error.
 */
import test from 'ava';
import fc from 'fast-check';
import {
  boundaryOf,
  FormDataParser,
  type FormField,
  parseDisposition,
} from '../../http/s3/form-data.js';
import {
  check,
  cutsOf,
  mutatedBytes,
  onlyS3Error,
  splitAt,
  tokenSoup,
} from '../helpers/fuzz-props.js';

/** RFC 2046 bchars, without the space (a trailing space is not allowed). */
const boundaryArb = fc.stringMatching(/^[0-9A-Za-z'()+_,\-./:=?]{1,70}$/);
const fieldNameArb = fc
  .stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/)
  .filter((n) => n.toLowerCase() !== 'file');

interface Form {
  boundary: string;
  encoded: Buffer;
  fields: FormField[];
  file: Buffer;
}

const formArb: fc.Arbitrary<Form> = fc
  .record({
    boundary: boundaryArb,
    fields: fc.array(fc.tuple(fieldNameArb, fc.string({ maxLength: 40 })), { maxLength: 5 }),
    file: fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes)),
    preamble: fc.constantFrom('', 'ignored preamble'),
    epilogue: fc.constantFrom('', '\r\nepilogue', 'x'),
  })
  .map(({ boundary, fields, file, preamble, epilogue }) => {
    const parts: Buffer[] = [];
    if (preamble !== '') parts.push(Buffer.from(`${preamble}\r\n`));
    for (const [name, value] of fields) {
      parts.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
        ),
      );
    }
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      file,
      Buffer.from(`\r\n--${boundary}--${epilogue}`),
    );
    return {
      boundary,
      encoded: Buffer.concat(parts),
      fields: fields.map(([name, value]) => ({ name, value })),
      file,
    };
  })
  // A field value or file that happens to hold the delimiter is a different form.
  .filter((form) => {
    const delimiter = `\r\n--${form.boundary}`;
    return (
      !form.file.includes(delimiter) &&
      form.fields.every((f) => !`\r\n${f.value}\r\n`.includes(delimiter))
    );
  });

interface Parsed {
  fields: FormField[];
  file: Buffer;
}

/** Pushes `pieces`, scribbling over each after the call, then ends the body. */
function parse(boundary: string, pieces: readonly Buffer[]): Parsed {
  let fields: FormField[] = [];
  const file: Buffer[] = [];
  const parser = new FormDataParser(boundary, {
    onFile: (seen) => {
      fields = [...seen];
    },
    onFileData: (view) => file.push(Buffer.from(view)),
    onFileEnd: () => {},
  });
  for (const piece of pieces) {
    parser.push(piece);
    piece.fill(0xee);
  }
  parser.end();
  return { fields, file: Buffer.concat(file) };
}

test('any split of a valid form parses to the same fields and file bytes', (t) => {
  check(
    fc.property(
      formArb.chain((form) => fc.tuple(fc.constant(form), cutsOf(form.encoded.length))),
      ([form, cuts]) => {
        const parsed = parse(form.boundary, splitAt(form.encoded, cuts));
        return (
          parsed.file.equals(form.file) &&
          JSON.stringify(parsed.fields) === JSON.stringify(form.fields)
        );
      },
    ),
    400,
  );
  t.pass();
});

test('mutated forms, split anywhere, fail only with an S3Error', (t) => {
  const caseArb = formArb.chain((form) =>
    mutatedBytes(fc.constant(form.encoded), 6).chain((mutated) =>
      fc.tuple(fc.constant(form.boundary), fc.constant(mutated), cutsOf(mutated.length)),
    ),
  );
  check(
    fc.property(caseArb, ([boundary, mutated, cuts]) => {
      onlyS3Error(() => parse(boundary, splitAt(mutated, cuts)));
    }),
    600,
  );
  t.pass();
});

test('multipart-shaped noise fails only with an S3Error', (t) => {
  const soup = tokenSoup([
    '--b',
    '--b--',
    '\r\n',
    '\r',
    '\n',
    '-',
    'Content-Disposition: form-data; name="',
    'Content-Disposition:',
    'form-data',
    '; name=',
    'file',
    '"',
    '\\',
    'filename="x"',
    'Content-Type: text/plain',
    ': ',
    ' \t',
    '__proto__',
  ]);
  check(
    fc.property(
      fc.oneof(soup, fc.string({ maxLength: 200 })),
      fc.integer({ min: 1, max: 16 }),
      (text, step) => {
        const bytes = Buffer.from(text, 'latin1');
        const pieces: Buffer[] = [];
        for (let i = 0; i < bytes.length; i += step)
          pieces.push(Buffer.from(bytes.subarray(i, i + step)));
        onlyS3Error(() => parse('b', pieces));
      },
    ),
    1500,
  );
  t.pass();
});

test('Content-Type boundaries and Content-Disposition values: only S3Errors, never a throw', (t) => {
  const contentType = fc.oneof(
    tokenSoup([
      'multipart/form-data',
      ';',
      ' boundary=',
      'boundary=',
      '"',
      '=',
      'x'.repeat(71),
      '\r\n',
      'charset=utf-8',
    ]),
    fc.string({ maxLength: 120 }),
  );
  const disposition = fc.oneof(
    tokenSoup([
      'form-data',
      ';',
      ' name=',
      'name=',
      'filename=',
      '"',
      '\\',
      '\\"',
      '=',
      ' ',
      '\t',
      'file',
      '__proto__',
    ]),
    fc.string({ maxLength: 120 }),
  );
  check(
    fc.property(contentType, disposition, (type, value) => {
      const boundary =
        onlyS3Error(() => boundaryOf(type)) === undefined ? boundaryOf(type) : undefined;
      if (boundary !== undefined && (boundary.length < 1 || boundary.length > 70)) return false;
      onlyS3Error(() => parseDisposition(value));
      return true;
    }),
    2000,
  );
  t.pass();
});
