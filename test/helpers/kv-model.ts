import fc from 'fast-check';
import type { RootDatabase } from 'lmdb';
import { recordEncoder } from '../../engine/codec.js';
import type { KvEnv, KvRangeOptions, KvTable } from '../../engine/meta/kv.js';

/**
 * The model of pg-kv.test.ts (a): random steps (writes, reads, transactions mixing them) over
 * the three kinds of table the metadata code opens, applied alike to lmdb-js and to PgKvEnv.
 */

/** The three kinds of table the metadata code opens. */
export type TableName = 'str' | 'bin' | 'nul';

export interface Tables {
  str: KvTable<unknown, string>;
  bin: KvTable<Buffer, Buffer>;
  nul: KvTable<string, Buffer>;
}

export function openTables(env: KvEnv | RootDatabase): Tables {
  const kv = env as KvEnv;
  return {
    // The catalog's and the shards' records: string keys, cbor-x values.
    str: kv.openDB<unknown, string>({ name: 'str', encoder: recordEncoder() }),
    // Bodies: bytes as they are; binary keys like object keys.
    bin: kv.openDB<Buffer, Buffer>({ name: 'bin', keyEncoding: 'binary', encoding: 'binary' }),
    // The null-version index: binary keys, lmdb-js's default (msgpack) values.
    nul: kv.openDB<string, Buffer>({ name: 'nul', keyEncoding: 'binary' }),
  };
}

const STRING_PARTS = [
  '',
  '\x00',
  '\x01',
  '\x04',
  '\x05',
  '\x1b',
  '\x1c',
  'a',
  'b',
  'z',
  'é',
  '€',
  '😀',
  '\uffff',
];
const stringKey = fc.oneof(
  fc.array(fc.constantFrom(...STRING_PARTS), { maxLength: 3 }).map((parts) => parts.join('')),
  // Long keys take ordered-binary's other path (no escapes, utf8Write).
  fc.constantFrom('x'.repeat(70), `\x02${'y'.repeat(70)}`, `é${'z'.repeat(80)}`),
);
const binaryKey = fc
  .array(fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff), { minLength: 1, maxLength: 3 })
  .map((bytes) => Buffer.from(bytes));

export type Op =
  | { op: 'put'; table: TableName; key: string | Buffer; value: unknown }
  | { op: 'remove'; table: TableName; key: string | Buffer }
  | { op: 'get'; table: TableName; key: string | Buffer }
  | { op: 'getBinary'; table: TableName; key: string | Buffer }
  | { op: 'range' | 'keys' | 'count'; table: TableName; options: KvRangeOptions<string | Buffer> }
  | { op: 'getCount'; table: TableName }
  | { op: 'ifNoExists'; table: TableName; key: string | Buffer; value: unknown }
  | { op: 'putEmpty' };

function keyArb(table: TableName): fc.Arbitrary<string | Buffer> {
  return table === 'str' ? stringKey : binaryKey;
}

function valueArb(table: TableName): fc.Arbitrary<unknown> {
  if (table === 'bin') return fc.uint8Array({ maxLength: 6 }).map((b) => Buffer.from(b));
  if (table === 'nul') return fc.string({ maxLength: 6 });
  return fc.record({ n: fc.integer(), s: fc.string({ maxLength: 4 }) });
}

function rangeOptions(table: TableName): fc.Arbitrary<KvRangeOptions<string | Buffer>> {
  return fc
    .record(
      {
        start: keyArb(table),
        end: keyArb(table),
        reverse: fc.boolean(),
        limit: fc.integer({ min: 0, max: 5 }),
      },
      { requiredKeys: [] },
    )
    .map((options) => options as KvRangeOptions<string | Buffer>);
}

const tableName = fc.constantFrom<TableName>('str', 'bin', 'nul');
const readOp: fc.Arbitrary<Op> = tableName.chain((table) =>
  fc.oneof(
    fc.record({ op: fc.constant('get' as const), table: fc.constant(table), key: keyArb(table) }),
    fc.record({
      op: fc.constant('getBinary' as const),
      table: fc.constant(table),
      key: keyArb(table),
    }),
    fc.record({ op: fc.constant('getCount' as const), table: fc.constant(table) }),
    fc.record({
      op: fc.constantFrom('range' as const, 'keys' as const, 'count' as const),
      table: fc.constant(table),
      options: rangeOptions(table),
    }),
  ),
);
const writeOp: fc.Arbitrary<Op> = tableName.chain((table) =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('put' as const),
        table: fc.constant(table),
        key: keyArb(table),
        value: valueArb(table),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('ifNoExists' as const),
        table: fc.constant(table),
        key: keyArb(table),
        value: valueArb(table),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('remove' as const),
        table: fc.constant(table),
        key: keyArb(table),
      }),
    },
  ),
);
export type Step = { kind: 'alone'; op: Op } | { kind: 'txn'; ops: Op[] };
export const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.oneof(writeOp, readOp).map((op): Step => ({ kind: 'alone', op })) },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.oneof(writeOp, readOp), { minLength: 1, maxLength: 8 })
      .map((ops): Step => ({ kind: 'txn', ops })),
  },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'alone', op: { op: 'putEmpty' } }) },
);

/** One operation's answer, with Buffers as hex so both stores' answers compare. */
export function answer(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) => {
      if (v !== null && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer') {
        return `hex:${Buffer.from((v as { data: number[] }).data).toString('hex')}`;
      }
      return v === undefined ? '<undefined>' : v;
    }) ?? '"<undefined>"',
  );
}

/** A read, answered synchronously (inside a run or an lmdb-js read). */
function applyRead(tables: Tables, op: Op): unknown {
  const table = (tables as unknown as Record<TableName, KvTable<unknown, string | Buffer>>)[
    (op as { table: TableName }).table
  ];
  switch (op.op) {
    case 'get':
      return table.get(op.key);
    case 'getBinary':
      return table.getBinary(op.key);
    case 'range':
      return [...table.getRange({ ...op.options })].map(({ key, value }) => [key, value]);
    case 'keys':
      return [...table.getKeys({ ...op.options })];
    case 'getCount':
      return table.getCount();
    case 'count':
      // lmdb-js writes into the options it is given: each store gets its own copy.
      return table.getKeysCount({ ...op.options });
    default:
      throw new Error(`not a read: ${op.op}`);
  }
}

/** A write inside a transaction's work: returns nothing to compare (lmdb-js's remove answers
 * whether the key existed, which this store does not read to know). */
function applyWriteInside(tables: Tables, op: Op): void {
  if (op.op === 'put') void tableOf(tables, op.table).put(op.key, op.value);
  else if (op.op === 'remove') void tableOf(tables, op.table).remove(op.key);
  else throw new Error(`not a write: ${op.op}`);
}

/** One operation of a transaction's work: a read's answer, or null for a write. */
function applyInside(tables: Tables, op: Op): unknown {
  if (op.op === 'ifNoExists') {
    // Inside a work, the same condition written out (lmdb-js's ifNoExists is a transaction).
    const table = tableOf(tables, op.table);
    if (table.get(op.key) !== undefined) return false;
    void table.put(op.key, op.value);
    return true;
  }
  if (op.op !== 'put' && op.op !== 'remove') return applyRead(tables, op);
  applyWriteInside(tables, op);
  return null;
}

function tableOf(tables: Tables, name: TableName): KvTable<unknown, string | Buffer> {
  return (tables as unknown as Record<TableName, KvTable<unknown, string | Buffer>>)[name];
}

export interface Store {
  tables: Tables;
  read(work: () => unknown): Promise<unknown>;
  transaction(work: () => unknown): Promise<unknown>;
}

async function settle(work: () => Promise<unknown>): Promise<unknown> {
  try {
    return answer(await work());
  } catch (error) {
    return `error: ${error instanceof Error && /zero length key/i.test(error.message) ? 'empty key' : String(error)}`;
  }
}

export async function applyStep(store: Store, s: Step): Promise<unknown> {
  if (s.kind === 'txn') {
    return settle(() => store.transaction(() => s.ops.map((op) => applyInside(store.tables, op))));
  }
  const op = s.op;
  switch (op.op) {
    case 'put':
      return settle(() => tableOf(store.tables, op.table).put(op.key, op.value));
    case 'remove':
      return settle(() => tableOf(store.tables, op.table).remove(op.key));
    case 'ifNoExists': {
      const table = tableOf(store.tables, op.table);
      return settle(() => table.ifNoExists(op.key, () => void table.put(op.key, op.value)));
    }
    case 'putEmpty':
      return settle(async () =>
        tableOf(store.tables, 'bin').put(Buffer.alloc(0), Buffer.from('x')),
      );
    default:
      return settle(() => store.read(() => applyRead(store.tables, op)));
  }
}
