/**
 * The thread boundary, checked on the sources: what runs inside shard threads (engine/shard/)
 * never reaches for the host side, the storage engine never reaches for the HTTP edge or the
 * tools, and the host side takes only types from the shard side (a value import would load
 * shard-thread code, and its module state, into the edge or main thread).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SOURCE_DIRS = ['engine', 'http', 'tools', 'bench'];

interface Import {
  /** The importing file, relative to the repository root. */
  readonly from: string;
  /** The imported file (relative imports only), relative to the repository root, as .ts. */
  readonly to: string;
  readonly typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every `import … from '…'` and `export … from '…'` with a relative specifier. */
function importsOf(file: string): Import[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const statements = text.matchAll(/^(import|export)(\s+type)?[^;]*?from\s+'(\.[^']+)'/gms);
  return [...statements].map((match) => ({
    from: file,
    to: normalize(join(dirname(file), match[3] ?? '')).replace(/\.js$/, '.ts'),
    typeOnly: match[2] !== undefined,
  }));
}

const IMPORTS = SOURCE_DIRS.flatMap(sourceFiles).flatMap(importsOf);

function under(path: string, ...dirs: string[]): boolean {
  return dirs.some((dir) => !relative(dir, path).startsWith('..'));
}

function violations(rule: (i: Import) => boolean): string[] {
  return IMPORTS.filter(rule).map((i) => `${i.from} → ${i.to}${i.typeOnly ? ' (type)' : ''}`);
}

test('the scan sees the imports it is meant to judge', (t) => {
  // A scan that finds nothing would let every rule below pass.
  t.true(IMPORTS.length > 500, `only ${IMPORTS.length} imports found`);
  t.true(
    IMPORTS.some((i) => i.from.startsWith('engine/shard/') && i.to === 'engine/meta/store.ts'),
  );
  t.true(IMPORTS.some((i) => i.from.startsWith('http/') && i.to.startsWith('engine/pool/')));
});

test('engine/ never imports the HTTP edge, the tools or the benchmarks', (t) => {
  t.deepEqual(
    violations((i) => under(i.from, 'engine') && under(i.to, 'http', 'tools', 'bench')),
    [],
  );
});

/**
 * The one exception (issue 16, DECISIONS.md): a shard opens SSE-S3/SSE-KMS data keys with the
 * keyring, whose keys live in the catalog; shard-keys.ts opens the catalog for that alone, on
 * the first encrypted object the shard meets, and only reads its keyring tables.
 */
const SHARD_READS_KEYRING = 'engine/shard/shard-keys.ts → engine/catalog/catalog.ts';

test('shard-thread code (engine/shard/) never imports the host side', (t) => {
  t.deepEqual(
    violations(
      (i) =>
        under(i.from, 'engine/shard') &&
        under(i.to, 'engine/pool', 'engine/catalog', 'engine/workers', 'http', 'tools'),
    ).filter((v) => v !== SHARD_READS_KEYRING),
    [],
  );
});

test('the host side takes only types from engine/shard/', (t) => {
  // bench/micro is exempt: it times shard-thread code (block verification) in its own process.
  t.deepEqual(
    violations(
      (i) =>
        !under(i.from, 'engine/shard', 'bench/micro') && under(i.to, 'engine/shard') && !i.typeOnly,
    ),
    [],
  );
});

test('edge-thread code (http/edge/) takes only types from the main thread', (t) => {
  t.deepEqual(
    violations(
      (i) =>
        under(i.from, 'http/edge') &&
        !i.typeOnly &&
        (under(i.to, 'http/admin') || i.to === 'http/server.ts' || i.to === 'http/edge-threads.ts'),
    ),
    [],
  );
});
