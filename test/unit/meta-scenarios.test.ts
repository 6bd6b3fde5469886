/**
 * The metadata scenarios (test/helpers/meta-scenarios.ts) over the embedded store, strict: the
 * same steps run over PostgreSQL in test/engine/meta-pg.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { MetaStore } from '../../engine/meta/store.js';
import { SCENARIOS } from '../helpers/meta-scenarios.js';

for (const scenario of SCENARIOS) {
  test(scenario.title, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'hangar-meta-scenario-'));
    const meta = MetaStore.open(dir, false, true);
    try {
      await scenario.run(t, meta, randomBytes(16).toString('hex'));
    } finally {
      await meta.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
