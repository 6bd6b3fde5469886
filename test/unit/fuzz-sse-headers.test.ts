/**
 * Property tests of the SSE-S3 / SSE-KMS request headers (http/s3/sse.ts managedRequestOf):
 * any mix of x-amz-server-side-encryption, its KMS key id, context and bucket-key headers either
 * reads as a request that keeps the readers' promises, or fails with a 400 InvalidArgument.
 */
import test from 'ava';
import fc from 'fast-check';
import { LIMITS } from '../../engine/limits.js';
import { managedRequestOf } from '../../http/s3/sse.js';
import { check, mutatedText, onlyS3Error } from '../helpers/fuzz-props.js';

const SSE = 'x-amz-server-side-encryption';

const contexts = fc.oneof(
  fc
    .dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 24 }), { maxKeys: 6 })
    .map((pairs) => Buffer.from(JSON.stringify(pairs)).toString('base64')),
  fc.jsonValue({ maxDepth: 2 }).map((v) => Buffer.from(JSON.stringify(v) ?? '').toString('base64')),
  mutatedText(fc.constant(Buffer.from('{"a":"b"}').toString('base64')), 3),
  fc.string({ maxLength: 40 }),
  fc.constant('e'.repeat(LIMITS.sseContextBytesMax + 4)),
);

const headers = fc.record(
  {
    [SSE]: fc.oneof(
      fc.constantFrom('AES256', 'aws:kms', 'aws:kms:dsse', 'aws:KMS', 'aes256', ''),
      fc.string({ maxLength: 16 }),
    ),
    [`${SSE}-aws-kms-key-id`]: fc.oneof(
      fc.constantFrom('alias/a', 'arn:aws:kms:us-east-1:000000000000:key/x', ''),
      fc.string({ maxLength: 30 }),
      fc.constant('k'.repeat(LIMITS.kmsKeyRefBytesMax + 1)),
    ),
    [`${SSE}-context`]: contexts,
    [`${SSE}-bucket-key-enabled`]: fc.oneof(
      fc.constantFrom('true', 'false', 'TRUE', ' false '),
      fc.string({ maxLength: 6 }),
    ),
  },
  { requiredKeys: [] },
);

test('SSE request headers read as a coherent request or fail with InvalidArgument', (t) => {
  check(
    fc.property(headers, (given) => {
      let read: ReturnType<typeof managedRequestOf> = null;
      const error = onlyS3Error(() => {
        read = managedRequestOf(given);
      });
      if (error !== undefined) {
        if (error.code !== 'InvalidArgument')
          throw new Error(`${error.code} for ${JSON.stringify(given)}`);
        return;
      }
      const request = read as ReturnType<typeof managedRequestOf>;
      const algorithm = given[SSE];
      if (request === null) {
        if (algorithm !== undefined) throw new Error('an SSE header read as none');
        return;
      }
      const expected = { AES256: 's3', 'aws:kms': 'kms', 'aws:kms:dsse': 'dsse' }[algorithm ?? ''];
      if (request.kind !== expected) throw new Error(`${algorithm} read as ${request.kind}`);
      if (request.bucketKey !== undefined && request.kind !== 'kms') {
        throw new Error('a bucket key kept for a non-KMS request');
      }
      if (request.kind === 's3' && (request.keyRef !== null || request.context !== undefined)) {
        throw new Error('KMS fields kept for AES256');
      }
      if (request.context !== undefined) {
        if (request.context.length > LIMITS.sseContextBytesMax)
          throw new Error('unbounded context');
        const parsed: unknown = JSON.parse(Buffer.from(request.context, 'base64').toString('utf8'));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          throw new Error('a context that is not an object');
        }
        if (!Object.values(parsed).every((v) => typeof v === 'string')) {
          throw new Error('a context with a value that is not a string');
        }
      }
      if ((request.keyRef?.length ?? 0) > LIMITS.kmsKeyRefBytesMax)
        throw new Error('unbounded key id');
    }),
    2000,
  );
  t.pass();
});
