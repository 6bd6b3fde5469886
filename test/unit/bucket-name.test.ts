import test from 'ava';
import { validateBucketName } from '../../engine/catalog/bucket-name.js';

test('accepts valid names', (t) => {
  for (const name of [
    'abc',
    'my-bucket',
    'my.bucket.2024',
    '0bucket9',
    'a'.repeat(63),
    'xn-bucket',
    'bucket-s3alias-not',
    '1.2.3.4.5',
    '999.1.1.x',
  ]) {
    t.is(validateBucketName(name), null, name);
  }
});

const invalid: Array<[string, RegExp]> = [
  ['', /3 to 63/],
  ['ab', /3 to 63/],
  ['a'.repeat(64), /3 to 63/],
  ['My-Bucket', /lowercase/],
  ['my_bucket', /lowercase/],
  ['my bucket', /lowercase/],
  ['bücket', /lowercase/],
  ['-bucket', /begin and end/],
  ['bucket-', /begin and end/],
  ['.bucket', /begin and end/],
  ['bucket.', /begin and end/],
  ['my..bucket', /adjacent dots/],
  ['192.168.1.1', /IP address/],
  ['1.2.3.4', /IP address/],
  ['xn--bucket', /'xn--'/],
  ['sthree-bucket', /'sthree-'/],
  ['sthree-configurator', /'sthree-'/],
  ['bucket-s3alias', /'-s3alias'/],
  ['bucket--ol-s3', /'--ol-s3'/],
  ['bucket.mrap', /'\.mrap'/],
  ['bucket--x-s3', /'--x-s3'/],
];

for (const [name, reason] of invalid) {
  test(`rejects ${JSON.stringify(name)}`, (t) => {
    const problem = validateBucketName(name);
    t.not(problem, null);
    t.regex(problem ?? '', reason);
  });
}
