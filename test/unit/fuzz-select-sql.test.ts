import test from 'ava';
import fc from 'fast-check';
import { LIMITS } from '../../engine/limits.js';
import { S3_ERRORS } from '../../http/s3/errors.js';
import { checkQuery } from '../../http/select/evaluate.js';
import { parseQuery } from '../../http/select/parser.js';
import { SelectSqlError } from '../../http/select/sql-error.js';

/** Parses and checks; anything but a typed SelectSqlError with a known code fails the property. */
function parsesOrRefusesTyped(sql: string): boolean {
  try {
    checkQuery(parseQuery(sql));
    return true;
  } catch (error) {
    if (error instanceof SelectSqlError && error.code in S3_ERRORS) return true;
    throw error;
  }
}

const WORDS = [
  'SELECT',
  'FROM',
  'WHERE',
  'LIMIT',
  'S3Object',
  's',
  '*',
  ',',
  '(',
  ')',
  '[',
  ']',
  '.',
  'AND',
  'OR',
  'NOT',
  'LIKE',
  'IN',
  'BETWEEN',
  'IS',
  'NULL',
  'MISSING',
  'CAST',
  'AS',
  'INT',
  'CASE',
  'WHEN',
  'THEN',
  'ELSE',
  'END',
  'COUNT',
  'SUM',
  'TRIM',
  'LEADING',
  'SUBSTRING',
  'FOR',
  'EXTRACT',
  'YEAR',
  'DATE_ADD',
  '_1',
  'name',
  '"q"',
  "'str'",
  '`2020T`',
  '1',
  '2.5',
  '=',
  '<>',
  '<',
  '>=',
  '+',
  '-',
  '/',
  '%',
  '||',
];

test('random text never throws anything but a typed Select error', (t) => {
  fc.assert(fc.property(fc.string({ maxLength: 200 }), parsesOrRefusesTyped), { numRuns: 3000 });
  t.pass();
});

test('random token sequences never throw anything but a typed Select error', (t) => {
  const tokens = fc
    .array(fc.constantFrom(...WORDS), { maxLength: 40 })
    .map((list) => list.join(' '));
  fc.assert(fc.property(tokens, parsesOrRefusesTyped), { numRuns: 5000 });
  fc.assert(
    fc.property(tokens, (rest) =>
      parsesOrRefusesTyped(`SELECT ${rest} FROM S3Object s WHERE ${rest}`),
    ),
    { numRuns: 3000 },
  );
  t.pass();
});

test('nesting past selectExpressionDepthMax is ParseUnsupportedSyntax, not a stack overflow', (t) => {
  for (const [open, close] of [
    ['(', ')'],
    ['NOT ', ''],
    ['-', ''],
    ['LOWER(', ')'],
  ] as const) {
    const depth = LIMITS.selectExpressionDepthMax * 200;
    const sql = `SELECT ${open.repeat(depth)}1${close.repeat(depth)} FROM S3Object`;
    const error = t.throws(() => parseQuery(sql), { instanceOf: SelectSqlError });
    t.is(error?.code, 'ParseUnsupportedSyntax', open);
  }
  for (const op of ['+', 'AND', 'OR', '*', '||']) {
    const chain = `SELECT 1${` ${op} 1`.repeat(100_000)} FROM S3Object`;
    const error = t.throws(() => parseQuery(chain), { instanceOf: SelectSqlError });
    t.is(error?.code, 'ParseUnsupportedSyntax', op);
  }
  const shallow = `SELECT ${'('.repeat(10)}1${')'.repeat(10)} FROM S3Object`;
  t.notThrows(() => parseQuery(shallow));
});

test('the grammar: precedence, predicates, paths and aliases', (t) => {
  const query = parseQuery(
    "SELECT s.a.b[0] x, 1 + 2 * 3 FROM S3Object[*].r[*] AS s WHERE NOT s.a LIKE 'x%' ESCAPE '!' OR s.n IS NOT NULL LIMIT 5",
  );
  t.is(query.alias, 's');
  t.is(query.limit, 5);
  t.deepEqual(query.from, [
    { kind: 'wildcard' },
    { kind: 'name', name: 'r', quoted: false },
    { kind: 'wildcard' },
  ]);
  t.is(query.items?.[0]?.alias, 'x');
  t.like(query.items?.[1]?.expr, { kind: 'binary', op: '+', right: { kind: 'binary', op: '*' } });
  t.like(query.where, {
    kind: 'binary',
    op: 'OR',
    left: { kind: 'unary', op: 'NOT', operand: { kind: 'like' } },
  });
});
