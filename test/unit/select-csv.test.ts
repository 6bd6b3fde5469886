import test from 'ava';
import fc from 'fast-check';
import { S3Error } from '../../http/s3/errors.js';
import { CsvReader } from '../../http/select/csv-input.js';
import type { CsvInput } from '../../http/select/request.js';

const OPTIONS: CsvInput = {
  kind: 'csv',
  header: 'NONE',
  fieldDelimiter: ',',
  recordDelimiter: '\n',
  quote: '"',
  quoteEscape: '"',
  comments: '#',
  allowQuotedRecordDelimiter: true,
};

/** Reads `text` fed in pieces cut at `cuts`. */
function read(text: string, cuts: number[], options: CsvInput = OPTIONS): string[][] {
  const rows: string[][] = [];
  const reader = new CsvReader(options);
  const onFields = (fields: string[]): boolean => {
    rows.push(fields);
    return true;
  };
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    reader.push(text.slice(at, cut), onFields);
    at = Math.max(at, cut);
  }
  reader.push(text.slice(at), onFields);
  reader.end(onFields);
  return rows;
}

test('quoting, doubled quotes, quoted delimiters, comments, CRLF and blank lines', (t) => {
  const text = 'a,"b,c","say ""hi"""\r\n# skipped\n\n"multi\nline",x\nlast,"",';
  t.deepEqual(read(text, []), [
    ['a', 'b,c', 'say "hi"'],
    ['multi\nline', 'x'],
    ['last', '', ''],
  ]);
});

test('a custom delimiter, quote and escape character', (t) => {
  const options: CsvInput = {
    ...OPTIONS,
    fieldDelimiter: '|',
    quote: "'",
    quoteEscape: '\\',
    recordDelimiter: ';',
  };
  t.deepEqual(read("x|'it\\'s|y';z|w", [], options), [
    ['x', "it's|y"],
    ['z', 'w'],
  ]);
});

test('an unterminated quote is CSVParsingError', (t) => {
  const error = t.throws(() => read('a,"open', []), { instanceOf: S3Error });
  t.is(error?.code, 'CSVParsingError');
});

test('where the text is cut never changes the records', (t) => {
  const field = fc.oneof(
    fc.stringMatching(/^[a-z ]{0,6}$/),
    fc.stringMatching(/^[a-z,"\n]{0,6}$/).map((s) => `"${s.replaceAll('"', '""')}"`),
  );
  const csv = fc
    .array(fc.array(field, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 })
    .map((rows) => rows.map((row) => row.join(',')).join('\n'));
  fc.assert(
    fc.property(csv, fc.array(fc.nat(), { maxLength: 6 }), (text, cuts) => {
      const whole = read(text, []);
      const pieces = read(
        text,
        cuts.map((cut) => cut % (text.length + 1)),
      );
      t.deepEqual(pieces, whole);
    }),
    { numRuns: 2000 },
  );
});
