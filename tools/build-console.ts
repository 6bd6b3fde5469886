/**
 * Builds the web console (console/src → dist/console): one esbuild bundle of the TSX sources,
 * Preact, uPlot and the AWS SDK's browser build, with content-hashed names (served immutable by
 * http/admin/console.ts), an index.html naming them, and every file precompressed (.br, .gz) so
 * the admin port never compresses at run time. Run by `npm run build` after tsc.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE = join(ROOT, 'console', 'src');
const OUT = join(ROOT, 'dist', 'console');

async function buildConsole(): Promise<void> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(join(OUT, 'assets'), { recursive: true });
  const result = await build({
    entryPoints: [join(SOURCE, 'main.tsx')],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: join(OUT, 'assets'),
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    define: { 'process.env.NODE_ENV': '"production"' },
    metafile: true,
    logLevel: 'warning',
    legalComments: 'eof',
  });
  const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
  const script = outputs.find((name) => name.endsWith('.js'));
  const style = outputs.find((name) => name.endsWith('.css'));
  if (script === undefined || style === undefined) {
    throw new Error(`console build produced no script or style: ${outputs.join(', ')}`);
  }
  const template = readFileSync(join(SOURCE, 'index.html'), 'utf8');
  writeFileSync(
    join(OUT, 'index.html'),
    template.replace('%SCRIPT%', `assets/${script}`).replace('%STYLE%', `assets/${style}`),
  );
  for (const name of ['index.html', ...outputs.map((output) => `assets/${output}`)]) {
    precompress(join(OUT, name));
  }
}

function precompress(path: string): void {
  const bytes = readFileSync(path);
  writeFileSync(`${path}.gz`, gzipSync(bytes, { level: 9 }));
  writeFileSync(
    `${path}.br`,
    brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    }),
  );
}

await buildConsole();
