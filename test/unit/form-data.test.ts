import test from 'ava';
import fc from 'fast-check';
import { S3Error } from '../../http/s3/errors.js';
import {
  boundaryOf,
  DEFAULT_FORM_LIMITS,
  type FormDataLimits,
  FormDataParser,
  type FormField,
  type FormFile,
  parseDisposition,
} from '../../http/s3/form-data.js';
import { randomBytesSeeded } from '../helpers/server.js';

interface Parsed {
  fields: FormField[];
  file: FormFile | null;
  bytes: Buffer;
  ended: boolean;
  /** Bytes that arrived before onFile or after onFileEnd (must stay 0). */
  stray: number;
}

/** Feeds `body` in pieces cut at `cuts` (offsets), then ends it. */
function parse(boundary: string, body: Buffer, cuts: number[], limits?: FormDataLimits): Parsed {
  const out: Parsed = { fields: [], file: null, bytes: Buffer.alloc(0), ended: false, stray: 0 };
  const pieces: Buffer[] = [];
  const parser = new FormDataParser(
    boundary,
    {
      onFile: (fields, file) => {
        out.fields = [...fields];
        out.file = file;
      },
      onFileData: (view) => {
        if (out.file === null || out.ended) out.stray += view.byteLength;
        // Copy, as the contract says: the view may be reused after the call.
        pieces.push(Buffer.from(view));
      },
      onFileEnd: () => {
        out.ended = true;
      },
    },
    limits,
  );
  let start = 0;
  for (const cut of [...cuts, body.length]) {
    // A fresh copy per piece, then scribbled over: the parser must not keep views.
    const piece = Buffer.from(body.subarray(start, cut));
    parser.push(piece);
    piece.fill(0xee);
    start = cut;
  }
  parser.end();
  out.bytes = Buffer.concat(pieces);
  return out;
}

function randomCuts(length: number, seed: number, count: number): number[] {
  const noise = randomBytesSeeded(count * 4, seed);
  const cuts = new Set<number>();
  for (let i = 0; i < count; i++) cuts.add(noise.readUInt32LE(i * 4) % (length + 1));
  return [...cuts].sort((a, b) => a - b);
}

function everyByte(length: number): number[] {
  return Array.from({ length }, (_, i) => i);
}

function form(
  boundary: string,
  fields: Array<[string, string]>,
  file: { name?: string; type?: string; bytes: Buffer },
  extra: { preamble?: string; after?: string; epilogue?: string } = {},
): Buffer {
  const parts: Buffer[] = [];
  if (extra.preamble !== undefined) parts.push(Buffer.from(`${extra.preamble}\r\n`));
  for (const [name, value] of fields) {
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`),
      Buffer.from(value),
      Buffer.from('\r\n'),
    );
  }
  const filename = file.name === undefined ? '' : `; filename="${file.name}"`;
  const type = file.type === undefined ? '' : `Content-Type: ${file.type}\r\n`;
  parts.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"${filename}\r\n${type}\r\n`,
    ),
    file.bytes,
    Buffer.from('\r\n'),
  );
  if (extra.after !== undefined)
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="after"\r\n\r\n${extra.after}\r\n`,
      ),
    );
  parts.push(Buffer.from(`--${boundary}--\r\n${extra.epilogue ?? ''}`));
  return Buffer.concat(parts);
}

const BOUNDARY = '----WebKitFormBoundary7MA4YWxkTrZu0gW';
const FIELDS: Array<[string, string]> = [
  ['key', 'uploads/${filename}'],
  ['Content-Type', 'image/png'],
  ['x-amz-meta-note', 'héllo wörld'],
  ['empty', ''],
];

/** File contents that look like delimiters, partly or wholly but for one byte. */
function trickyFile(boundary: string): Buffer {
  return Buffer.concat([
    Buffer.from(`\r\n--${boundary.slice(0, -1)}X\r\r\n\r\n-`),
    randomBytesSeeded(3000, 7),
    Buffer.from(`\r\n--${boundary.slice(0, Math.min(5, boundary.length - 1))}\r\n--\r`),
    Buffer.from(`--${boundary}`), // no CRLF before it: not a delimiter
    Buffer.from('\r\n\r\n\r'),
  ]);
}

test('boundaryOf reads the boundary, quoted or not, and refuses other content types', (t) => {
  t.is(boundaryOf('multipart/form-data; boundary=abc'), 'abc');
  t.is(boundaryOf('Multipart/Form-Data; charset=utf-8; BOUNDARY="a b:c"'), 'a b:c');
  for (const bad of [
    undefined,
    'application/json',
    'multipart/form-data',
    'multipart/form-data; boundary=',
  ]) {
    const error = t.throws(() => boundaryOf(bad), { instanceOf: S3Error });
    t.is(error?.code, 'MalformedPOSTRequest');
  }
});

test('parseDisposition handles quoting, escapes, semicolons in values and case', (t) => {
  const { type, params } = parseDisposition(
    'Form-Data; NAME="fi;le"; filename="a \\"b\\".txt" ; x=plain',
  );
  t.is(type, 'form-data');
  t.is(params.get('name'), 'fi;le');
  t.is(params.get('filename'), 'a "b".txt');
  t.is(params.get('x'), 'plain');
});

test('a whole form parses in one push', (t) => {
  const bytes = randomBytesSeeded(10_000, 3);
  const body = form(BOUNDARY, FIELDS, { name: 'cat.png', type: 'image/png', bytes });
  const parsed = parse(BOUNDARY, body, []);
  t.deepEqual(
    parsed.fields.map((f) => [f.name, f.value]),
    FIELDS,
  );
  t.deepEqual(parsed.file, { filename: 'cat.png', contentType: 'image/png' });
  t.true(parsed.ended);
  t.is(parsed.stray, 0);
  t.true(parsed.bytes.equals(bytes));
});

test('1-byte pushes give the same result, delimiter look-alikes in the file included', (t) => {
  const bytes = trickyFile(BOUNDARY);
  const body = form(
    BOUNDARY,
    FIELDS,
    { name: 'x.bin', bytes },
    { preamble: 'ignored', after: 'x' },
  );
  const parsed = parse(BOUNDARY, body, everyByte(body.length));
  t.deepEqual(
    parsed.fields.map((f) => [f.name, f.value]),
    FIELDS,
  );
  t.is(parsed.file?.filename, 'x.bin');
  t.true(parsed.bytes.equals(bytes));
  t.is(parsed.stray, 0);
});

test('random chunk splits always give back the exact file and fields', (t) => {
  for (let seed = 1; seed <= 300; seed++) {
    const boundary = seed % 3 === 0 ? 'b' : `${BOUNDARY}${seed}`;
    const size = (seed * 7919) % 70_000;
    const bytes =
      seed % 5 === 0
        ? Buffer.concat([trickyFile(boundary), randomBytesSeeded(size, seed)])
        : randomBytesSeeded(size, seed);
    const body = form(
      boundary,
      FIELDS.slice(0, seed % 5),
      { bytes },
      {
        ...(seed % 2 === 0 ? { preamble: 'This is a preamble' } : {}),
        ...(seed % 4 === 0 ? { after: 'ignored', epilogue: 'trailing words' } : {}),
      },
    );
    const cuts = randomCuts(body.length, seed, 1 + (seed % 40));
    const parsed = parse(boundary, body, cuts);
    if (!parsed.bytes.equals(bytes) || parsed.fields.length !== seed % 5 || !parsed.ended) {
      t.fail(
        `seed ${seed}: ${parsed.bytes.length} of ${bytes.length} bytes, ${parsed.fields.length} fields`,
      );
      return;
    }
  }
  t.pass();
});

test('an empty file and a file without filename or type', (t) => {
  const parsed = parse(BOUNDARY, form(BOUNDARY, [['key', 'k']], { bytes: Buffer.alloc(0) }), []);
  t.true(parsed.ended);
  t.is(parsed.bytes.length, 0);
  t.deepEqual(parsed.file, { filename: null, contentType: null });
});

function parseError(
  body: Buffer | string,
  cuts: number[] = [],
  limits?: FormDataLimits,
): S3Error | undefined {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return caught(() => parse(BOUNDARY, bytes, cuts, limits));
}

function caught(fn: () => void): S3Error | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof S3Error) return error;
    throw error;
  }
  return undefined;
}

test('malformed bodies are MalformedPOSTRequest, in one push or byte by byte', (t) => {
  const good = form(BOUNDARY, [['key', 'k']], { bytes: Buffer.from('data') });
  const cases: Array<[string, Buffer]> = [
    ['empty body', Buffer.alloc(0)],
    ['no boundary at all', Buffer.from('just some text')],
    ['truncated in the file', good.subarray(0, good.length - 12)],
    [
      'truncated before the closing delimiter',
      good.subarray(0, good.indexOf(`--${BOUNDARY}--`) - 2),
    ],
    ['garbage after a delimiter', Buffer.from(`--${BOUNDARY}garbage\r\n\r\n`)],
    [
      'a part without Content-Disposition',
      Buffer.from(`--${BOUNDARY}\r\nX-Other: 1\r\n\r\nv\r\n--${BOUNDARY}--`),
    ],
    [
      'a header line without colon',
      Buffer.from(`--${BOUNDARY}\r\nnonsense\r\n\r\nv\r\n--${BOUNDARY}--`),
    ],
    [
      'a part with no name',
      Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nv\r\n--${BOUNDARY}--`),
    ],
    [
      'an endless header',
      Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${'a'.repeat(9000)}"`),
    ],
  ];
  for (const [label, body] of cases) {
    for (const cuts of [[], everyByte(Math.min(body.length, 20_000))]) {
      const error = parseError(body, cuts);
      t.is(error?.code, 'MalformedPOSTRequest', label);
    }
  }
});

test('a form without a file part is InvalidArgument', (t) => {
  const body = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--${BOUNDARY}--\r\n`;
  const error = parseError(body);
  t.is(error?.code, 'InvalidArgument');
  t.is(error?.fields.ArgumentName, 'file');
});

test('fields before the file are bounded', (t) => {
  const body = form(
    BOUNDARY,
    [
      ['a', 'x'.repeat(300)],
      ['b', 'y'.repeat(300)],
    ],
    { bytes: Buffer.from('f') },
  );
  const limits = { ...DEFAULT_FORM_LIMITS, fieldsBytesMax: 500 };
  t.is(parseError(body, [], limits)?.code, 'MaxPostPreDataLengthExceededError');
  t.is(parseError(body, everyByte(body.length), limits)?.code, 'MaxPostPreDataLengthExceededError');
  t.is(parseError(body, [], { ...DEFAULT_FORM_LIMITS, fieldsBytesMax: 700 }), undefined);
});

test('empty fields are bounded in count and in pre-file bytes, whatever their names', (t) => {
  const empties = (count: number): Array<[string, string]> =>
    Array.from({ length: count }, (): [string, string] => ['', '']);
  const file = { bytes: Buffer.from('f') };
  const counted = { ...DEFAULT_FORM_LIMITS, fieldsMax: 10 };
  t.is(parseError(form(BOUNDARY, empties(10), file), [], counted), undefined);
  const tooMany = form(BOUNDARY, empties(11), file);
  t.is(parseError(tooMany, [], counted)?.code, 'MaxPostPreDataLengthExceededError');
  t.is(
    parseError(tooMany, everyByte(tooMany.length), counted)?.code,
    'MaxPostPreDataLengthExceededError',
  );
  // Framing counts too: empty fields carry no name or value bytes, but their boundaries do.
  const framed = { ...DEFAULT_FORM_LIMITS, preFileBytesMax: 1000 };
  const long = form(BOUNDARY, empties(40), file);
  t.is(parseError(long, [], framed)?.code, 'MaxPostPreDataLengthExceededError');
  t.is(parseError(long, [], DEFAULT_FORM_LIMITS), undefined);
  // ... and so does a preamble, which is never stored.
  const preamble = form(BOUNDARY, [], file, { preamble: 'p'.repeat(2000) });
  t.is(parseError(preamble, [], framed)?.code, 'MaxPostPreDataLengthExceededError');
});

test('one field value is bounded on its own', (t) => {
  const body = form(BOUNDARY, [['a', 'x'.repeat(101)]], { bytes: Buffer.from('f') });
  const limits = { ...DEFAULT_FORM_LIMITS, fieldValueBytesMax: 100 };
  const error = parseError(body, everyByte(body.length), limits);
  t.is(error?.code, 'MaxPostPreDataLengthExceededError');
  t.regex(error?.message ?? '', /'a' is too large/);
  t.is(parseError(body, [], { ...DEFAULT_FORM_LIMITS, fieldValueBytesMax: 101 }), undefined);
});

test('bytes after the file part do not count against the pre-file bound', (t) => {
  const body = form(
    BOUNDARY,
    [['key', 'k']],
    { bytes: Buffer.alloc(5000, 1) },
    { epilogue: 'e'.repeat(5000) },
  );
  t.is(parseError(body, [], { ...DEFAULT_FORM_LIMITS, preFileBytesMax: 500 }), undefined);
});

test('a part header section is bounded', (t) => {
  const header = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\nX-Pad: ${'p'.repeat(2000)}\r\n\r\nv\r\n`;
  const body = Buffer.concat([
    Buffer.from(header),
    form(BOUNDARY, [], { bytes: Buffer.from('f') }),
  ]);
  const limits = { ...DEFAULT_FORM_LIMITS, partHeaderBytesMax: 1024 };
  t.is(parseError(body, [], limits)?.code, 'MalformedPOSTRequest');
  t.is(parseError(body, everyByte(body.length), limits)?.code, 'MalformedPOSTRequest');
  t.is(parseError(body, [], DEFAULT_FORM_LIMITS), undefined);
});

test('property: any form, cut anywhere, parses within the bounds or fails with an S3Error', (t) => {
  const limits = { ...DEFAULT_FORM_LIMITS, fieldsMax: 8, preFileBytesMax: 2048 };
  const field = fc.tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 300 }));
  t.notThrows(() =>
    fc.assert(
      fc.property(
        fc.array(field, { maxLength: 20 }),
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.option(fc.nat(), { nil: undefined }),
        (fields, file, rawCuts, flip) => {
          const names = fields.map(([name, value]): [string, string] => [
            name.replace(/["\r\n\\]/g, ''),
            value,
          ]);
          const body = form(BOUNDARY, names, { bytes: Buffer.from(file) });
          // Sometimes one byte changed: the parse may fail, but only with an S3Error.
          if (flip !== undefined) {
            const at = flip % body.length;
            body[at] = (body[at] ?? 0) ^ 0x5a;
          }
          const cuts = [...new Set(rawCuts.map((c) => c % (body.length + 1)))].sort(
            (a, b) => a - b,
          );
          try {
            const parsed = parse(BOUNDARY, body, cuts, limits);
            return parsed.fields.length <= limits.fieldsMax;
          } catch (error) {
            return error instanceof S3Error;
          }
        },
      ),
      { numRuns: 300 },
    ),
  );
});

test('what a handler throws stops the parse', (t) => {
  const body = form(BOUNDARY, [['key', 'k']], { bytes: Buffer.from('data') });
  const parser = new FormDataParser(BOUNDARY, {
    onFile: () => {
      throw new S3Error('AccessDenied');
    },
    onFileData: () => t.fail('no data after a refused file'),
    onFileEnd: () => t.fail('no end after a refused file'),
  });
  t.throws(() => parser.push(body), { message: 'Access Denied' });
});
