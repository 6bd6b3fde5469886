import test from 'ava';
import { satisfies } from '../../tools/doctor/checks.js';

// The doctor's reading of package.json's engines range, without a semver dependency.

test('">=20.19 <21" as npm reads it', (t) => {
  t.true(satisfies('v20.19.0', '>=20.19 <21'));
  t.true(satisfies('v20.20.2', '>=20.19 <21'));
  t.false(satisfies('v20.18.3', '>=20.19 <21'));
  t.false(satisfies('v21.0.0', '>=20.19 <21'));
  t.false(satisfies('v22.1.0', '>=20.19 <21'));
});

test('partial versions complete as semver does', (t) => {
  t.true(satisfies('v20.19.9', '<=20.19'));
  t.false(satisfies('v20.20.0', '<=20.19'));
  t.false(satisfies('v20.99.0', '>20'));
  t.true(satisfies('v21.0.0', '>20'));
  t.true(satisfies('v20.19.1', '20.19.1'));
});

test('a range it cannot read is null, not a guess', (t) => {
  t.is(satisfies('v20.19.0', '^20.19'), null);
  t.is(satisfies('v20.19.0', '20.x || 22.x'), null);
});
