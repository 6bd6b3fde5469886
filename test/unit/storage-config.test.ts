import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { ConfigError, type HangarConfig, loadConfig } from '../../engine/config.js';
import { parseCapacity, tierOfClass } from '../../engine/storage-config.js';

function loadToml(text: string): { config: HangarConfig; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-storage-config-'));
  writeFileSync(join(dir, 'hangar.toml'), text);
  return { config: loadConfig({ env: {}, flags: {}, cwd: dir }), dir };
}

function expectError(t: ExecutionContext, text: string, ...parts: string[]): void {
  const error = t.throws(() => loadToml(text), { instanceOf: ConfigError });
  for (const part of parts) {
    t.true(error?.message.includes(part), `'${error?.message}' names ${part}`);
  }
}

test('data_dirs and tiers parse, with relative paths, units and defaults', (t) => {
  const { config, dir } = loadToml(`
[[data_dirs]]
path = "ssd1"
capacity = "1T"
[[data_dirs]]
path = "/mnt/hdd1"
capacity = "500G"
tier = "cold"
[[data_dirs]]
path = "/mnt/old"
capacity = 1048576
read_only = true
[tiers.cold]
classes = ["GLACIER", "DEEP_ARCHIVE"]
compression = "zstd"
`);
  t.deepEqual(config.storage.dataDirs, [
    { path: join(dir, 'ssd1'), capacityBytes: 2 ** 40, tier: 'standard', readOnly: false },
    { path: '/mnt/hdd1', capacityBytes: 500 * 2 ** 30, tier: 'cold', readOnly: false },
    { path: '/mnt/old', capacityBytes: 1048576, tier: 'standard', readOnly: true },
  ]);
  t.deepEqual(config.storage.tiers, [
    { name: 'standard', classes: [] },
    { name: 'cold', classes: ['GLACIER', 'DEEP_ARCHIVE'], compression: 'zstd' },
  ]);
  t.is(tierOfClass(config.storage, 'GLACIER'), 'cold');
  t.is(tierOfClass(config.storage, 'STANDARD_IA'), 'standard');
  t.is(tierOfClass(config.storage, undefined), 'standard');
});

test('no data_dirs: the legacy single directory', (t) => {
  const { config } = loadToml('shards = 2\n');
  t.deepEqual(config.storage, { dataDirs: [], tiers: [] });
});

test('capacities: binary units, decimals, refusals', (t) => {
  t.is(parseCapacity('1T', 'k'), 2 ** 40);
  t.is(parseCapacity('500G', 'k'), 500 * 2 ** 30);
  t.is(parseCapacity('1.5 TiB', 'k'), 1.5 * 2 ** 40);
  t.is(parseCapacity('64GB', 'k'), 64 * 2 ** 30);
  t.is(parseCapacity(4096, 'k'), 4096);
  for (const bad of ['', '0', 'lots', '1X', -5, '1 T B']) {
    t.throws(() => parseCapacity(bad, 'data_dirs[0].capacity'), {
      message: /data_dirs\[0\]\.capacity/,
    });
  }
});

const dir = (path: string, extra = ''): string =>
  `[[data_dirs]]\npath = "${path}"\ncapacity = "1G"\n${extra}\n`;

test('config errors name the key', (t) => {
  expectError(t, `${dir('/a')}${dir('/b', 'tier = "cold"')}`, 'data_dirs[1].tier', 'cold');
  expectError(
    t,
    `${dir('/a')}${dir('/b', 'tier = "cold"')}${dir('/c', 'tier = "ice"')}
[tiers.cold]
classes = ["GLACIER"]
[tiers.ice]
classes = ["GLACIER"]
`,
    'tiers.ice.classes',
    'GLACIER',
    'tiers.cold.classes',
  );
  expectError(
    t,
    `${dir('/a')}\n[tiers.cold]\nclasses = ["FROZEN"]\n`,
    'tiers.cold.classes',
    'FROZEN',
  );
  expectError(
    t,
    `${dir('/a')}\n[tiers.cold]\nclasses = ["GLACIER"]\n`,
    'tiers.cold',
    'no data_dirs',
  );
  expectError(t, `${dir('/a')}${dir('/a')}`, 'data_dirs[1].path', 'repeats');
  expectError(t, `${dir('/a')}${dir('/a/b')}`, 'data_dirs[1].path', 'inside');
  expectError(t, `${dir('/a/b')}${dir('/a')}`, 'data_dirs[0].path', 'inside');
  expectError(t, dir('/a', 'read_only = true\n'), 'tiers.standard', 'read_only');
  expectError(t, dir('/a', 'tier = "cold"\n[tiers.cold]\n'), 'tiers.standard', 'no data_dirs');
  expectError(t, '[[data_dirs]]\npath = "/a"\n', 'data_dirs[0].capacity', 'required');
  expectError(t, dir('/a', 'size = 3\n'), 'data_dirs[0].size');
  expectError(t, dir('/a', 'read_only = "yes"\n'), 'data_dirs[0].read_only');
  expectError(
    t,
    `${dir('/a')}${dir('/b', 'tier = "cold"')}\n[tiers.cold]\ncompression = "lz4"\n`,
    'tiers.cold.compression',
  );
  expectError(t, '[tiers.cold]\nclasses = ["GLACIER"]\n', 'tiers', 'data_dirs');
  expectError(t, 'data_dirs = []\n', 'data_dirs');
});
