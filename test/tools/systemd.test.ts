/**
 * tools/systemd/hangar.service: systemd itself checks it (`systemd-analyze verify`, every warning
 * a failure), and the hardening and stop settings the README promises are in it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { LIMITS } from '../../engine/limits.js';

const UNIT = readFileSync(
  new URL('../../../tools/systemd/hangar.service', import.meta.url),
  'utf8',
);
const PACKAGE = JSON.parse(
  readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
) as { bin: { hangar: string } };
const INSTALLED_NODE = '/usr/bin/node';

/**
 * `systemd-analyze verify` on the unit text; its output (warnings go to stderr with exit 0, e.g.
 * an unknown key). verify checks that ExecStart's program exists, so the unit is verified with
 * this machine's node in place of the installed path, and nothing else changed.
 */
async function verify(unitText: string): Promise<{ code: number; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-unit-'));
  try {
    const file = join(dir, 'hangar.service');
    writeFileSync(
      file,
      unitText.replaceAll(`ExecStart=${INSTALLED_NODE} `, `ExecStart=${process.execPath} `),
    );
    try {
      const { stdout, stderr } = await promisify(execFile)('systemd-analyze', ['verify', file]);
      return { code: 0, output: stdout + stderr };
    } catch (error) {
      const failed = error as { code?: number | string; stdout?: string; stderr?: string };
      if (failed.code === 'ENOENT') {
        throw new Error('systemd-analyze is missing: install the systemd package (.ci/run does)');
      }
      return { code: Number(failed.code), output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The values of `key=` lines in the unit (comments left out). */
function settings(key: string): string[] {
  return [...UNIT.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1] ?? '');
}

test('systemd-analyze verify accepts the unit without a warning', async (t) => {
  t.deepEqual(await verify(UNIT), { code: 0, output: '' });
});

test('the verification can fail: a misspelt key is reported', async (t) => {
  const broken = UNIT.replace('NoNewPrivileges=yes', 'NoNewPrivilege=yes');
  const { output } = await verify(broken);
  t.regex(output, /Unknown key 'NoNewPrivilege'/);
});

test('the unit runs the built CLI from the documented install path', (t) => {
  t.deepEqual(settings('ExecStart'), [
    `${INSTALLED_NODE} /opt/hangar/${PACKAGE.bin.hangar} server`,
  ]);
  t.deepEqual(settings('Environment'), ['HANGAR_DATA_DIR=/var/lib/hangar']);
  t.deepEqual(settings('StateDirectory'), ['hangar']);
  t.deepEqual(settings('EnvironmentFile'), ['-/etc/hangar/hangar.env']);
});

test('stop and restart settings: SIGTERM, a timeout past the drain bound, no loop on exit 2', (t) => {
  t.deepEqual(settings('Type'), ['simple']);
  t.deepEqual(settings('KillSignal'), ['SIGTERM']);
  t.deepEqual(settings('Restart'), ['on-failure']);
  t.deepEqual(settings('RestartPreventExitStatus'), ['2']);
  const [timeout] = settings('TimeoutStopSec');
  t.true(
    Number(timeout) * 1000 > LIMITS.shutdownDrainMs,
    `TimeoutStopSec=${timeout} must exceed the drain bound (${LIMITS.shutdownDrainMs} ms)`,
  );
});

test('the hardening settings are present', (t) => {
  const expected: Array<[string, string]> = [
    ['User', 'hangar'],
    ['NoNewPrivileges', 'yes'],
    ['ProtectSystem', 'strict'],
    ['ProtectHome', 'yes'],
    ['PrivateTmp', 'yes'],
    ['PrivateDevices', 'yes'],
    ['ProtectKernelTunables', 'yes'],
    ['ProtectKernelModules', 'yes'],
    ['ProtectKernelLogs', 'yes'],
    ['ProtectControlGroups', 'yes'],
    ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX'],
    ['RestrictNamespaces', 'yes'],
    ['LockPersonality', 'yes'],
    ['SystemCallFilter', '@system-service'],
    ['UMask', '0077'],
    ['CapabilityBoundingSet', ''],
    ['LimitNOFILE', '65536'],
  ];
  for (const [key, value] of expected) t.deepEqual(settings(key), [value], key);
  // V8's JIT needs W+X pages: node dies under MemoryDenyWriteExecute.
  t.deepEqual(settings('MemoryDenyWriteExecute'), []);
  t.deepEqual(settings('AmbientCapabilities'), []);
});
