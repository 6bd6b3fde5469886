// A wire-fuzz finding (seed 804878859): a PostObject whose bucket name was longer than LMDB takes
// as a key made Catalog.getBucket throw, and the request answered 500.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Catalog } from '../../engine/catalog/catalog.js';

test('a bucket name of any length is looked up without a throw: absent when too long', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-catalog-names-'));
  const catalog = Catalog.open(dir);
  try {
    for (const length of [64, 511, 2_000, 4_000, 70_000]) {
      t.is(catalog.getBucket('a'.repeat(length)), undefined, `${length} characters`);
    }
  } finally {
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
