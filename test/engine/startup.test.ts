import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { HANGAR_BIN } from '../helpers/server.js';

function startExpectingFailure(
  args: string[],
  env: Record<string, string> = {},
): { status: number | null; output: string } {
  const dataDir = mkdtempSync(join(tmpdir(), 'hangar-startup-'));
  try {
    const run = spawnSync(
      process.execPath,
      [HANGAR_BIN, 'server', '--data-dir', dataDir, '--s3-port', '0', ...args],
      {
        env: { ...process.env, ...env },
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

test('start-up refuses the slow ws fallback of uWebSockets.js', (t) => {
  const run = startExpectingFailure([], { UWS_USE_FALLBACK: '1' });
  t.not(run.status, 0);
  t.regex(run.output, /native uWebSockets\.js binary/);
  t.notRegex(run.output, /serving S3/);
});

/**
 * A `--require` preload that makes uWebSockets.js's native binary fail to load, as a wrong Node
 * ABI or an old glibc would: the package then catches the error and returns its ws fallback.
 * Other native modules (LMDB, cbor) load as usual.
 */
const FAILING_UWS_PRELOAD = `
const Module = require('node:module');
const loadNative = Module._extensions['.node'];
Module._extensions['.node'] = function (module, filename) {
  if (/uws_[^/]*\\.node$/.test(filename)) throw new Error('simulated: the uWS binary does not load');
  return loadNative.call(this, module, filename);
};
`;

test('start-up refuses to serve when the native uWebSockets.js binary fails to load', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-uws-'));
  const preload = join(dir, 'failing-uws.cjs');
  writeFileSync(preload, FAILING_UWS_PRELOAD);
  try {
    const run = startExpectingFailure([], { NODE_OPTIONS: `--require ${preload}` });
    // The preload did its part: the package fell back (and said so) ...
    t.regex(run.output, /simulated: the uWS binary does not load/);
    t.regex(run.output, /Falling back to a NodeJS implementation/);
    // ... and hangar refused the fallback instead of serving on it.
    t.not(run.status, 0);
    t.regex(run.output, /the native uWebSockets\.js binary did not load/);
    t.notRegex(run.output, /serving S3/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an invalid setting stops the start with a message naming the key', (t) => {
  const run = startExpectingFailure([], { HANGAR_S3_PORT: 'not-a-port' });
  t.is(run.status, 2);
  t.regex(run.output, /s3\.port/);
});

test('an unknown key in the config file stops the start with its name', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-config-'));
  const file = join(dir, 'hangar.toml');
  writeFileSync(file, '[s3]\nprot = 3900\n');
  try {
    const run = startExpectingFailure(['--config', file]);
    t.is(run.status, 2);
    t.regex(run.output, /s3\.prot/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
