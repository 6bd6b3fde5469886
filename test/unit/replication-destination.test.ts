/**
 * The headers a replica is written with (http/replication/destination.ts): its source's
 * encryption type, the rule's replica key for SSE-KMS, the owner override's canned ACL.
 */
import test from 'ava';
import {
  destinationHeaders,
  encryptionKindOfHead,
  unreadableSourceReason,
} from '../../http/replication/destination.js';

const KEY = 'arn:aws:kms:us-east-1:000000000000:key/replica';

test('a replica keeps its source encryption type; SSE-KMS goes under the replica key', (t) => {
  t.deepEqual(destinationHeaders({}, { replicaKmsKeyId: KEY }), {});
  t.deepEqual(destinationHeaders({ ServerSideEncryption: 'AES256' }, { replicaKmsKeyId: KEY }), {
    ServerSideEncryption: 'AES256',
  });
  t.deepEqual(
    destinationHeaders(
      { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'source-key', BucketKeyEnabled: true },
      { replicaKmsKeyId: KEY },
    ),
    { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY, BucketKeyEnabled: true },
  );
  t.deepEqual(
    destinationHeaders({ ServerSideEncryption: 'aws:kms:dsse' }, { replicaKmsKeyId: KEY }),
    {
      ServerSideEncryption: 'aws:kms:dsse',
      SSEKMSKeyId: KEY,
    },
  );
  // No replica key (the rule changed since): the destination's default key, never the source's.
  t.deepEqual(destinationHeaders({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'src' }, {}), {
    ServerSideEncryption: 'aws:kms',
  });
});

test('the owner override is bucket-owner-full-control', (t) => {
  t.deepEqual(destinationHeaders({}, { ownerOverride: true }), {
    ACL: 'bucket-owner-full-control',
  });
});

test('a HEAD tells the encryption kind rules match on; SSE-C refusals say why', (t) => {
  t.is(encryptionKindOfHead({}), undefined);
  t.is(encryptionKindOfHead({ ServerSideEncryption: 'AES256' }), 's3');
  t.is(encryptionKindOfHead({ ServerSideEncryption: 'aws:kms' }), 'kms');
  t.is(encryptionKindOfHead({ ServerSideEncryption: 'aws:kms:dsse' }), 'dsse');
  t.is(encryptionKindOfHead({ SSECustomerAlgorithm: 'AES256' }), 'c');
  t.regex(
    unreadableSourceReason(
      'InvalidRequest (400): The object was stored using a form of Server Side Encryption.',
    ),
    /^an SSE-C object: hangar keeps no customer key/,
  );
  t.is(
    unreadableSourceReason('InvalidArgument (400): x'),
    'reading the source: InvalidArgument (400): x',
  );
});
