import test from 'ava';
import { Sequencer } from '../../engine/meta/sequencer.js';

test('keys grow in creation order, and resume after the last one', (t) => {
  const first = new Sequencer(undefined);
  const a = first.next(1000);
  const b = first.next(1000);
  const c = first.next(999); // the clock stepped back
  t.true(a < b && b < c);
  t.is(a, `${(1000).toString(16).padStart(12, '0')}00000000`);
  const resumed = new Sequencer(c);
  t.true(resumed.next(5) > c);
});

test('two writers of one shared queue never make the same key', (t) => {
  // Two gateways appending to one partition's queue in the same millisecond.
  const one = new Sequencer(undefined, '0a0a0a0a');
  const two = new Sequencer(undefined, 'b0b0b0b0');
  const keys = new Set<string>();
  for (let i = 0; i < 100; i++) {
    keys.add(one.next(7000));
    keys.add(two.next(7000));
  }
  t.is(keys.size, 200);
  // A writer resuming after another's last key parses its time and counter, not the tag.
  const last = one.next(7000);
  const after = new Sequencer(last, 'b0b0b0b0').next(7000);
  t.true(after > last);
  t.is(after.slice(12, 20), (101).toString(16).padStart(8, '0'));
});
