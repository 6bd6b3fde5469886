/**
 * SECURITY.md's bounds table mirrors engine/limits.ts: every key of LIMITS must have its row, so
 * a new bound cannot ship undocumented.
 */
import { readFileSync } from 'node:fs';
import test from 'ava';
import { LIMITS } from '../../engine/limits.js';

const SECURITY_MD = new URL('../../../SECURITY.md', import.meta.url);

test('every LIMITS key has a row in SECURITY.md', (t) => {
  const text = readFileSync(SECURITY_MD, 'utf8');
  const rows = new Set([...text.matchAll(/^\| `([A-Za-z0-9]+)` \|/gm)].map((m) => m[1]));
  const missing = Object.keys(LIMITS).filter((key) => !rows.has(key));
  t.deepEqual(missing, [], 'add a row to the Limits table of SECURITY.md for each of these');
});

test('SECURITY.md says how to report a vulnerability', (t) => {
  const text = readFileSync(SECURITY_MD, 'utf8');
  t.regex(text, /## Reporting a vulnerability/);
  t.regex(text, /security@/);
});
