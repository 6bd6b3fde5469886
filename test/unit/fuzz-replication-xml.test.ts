/**
 * Property test of the ReplicationConfiguration reader (http/s3/replication-config.ts): random,
 * XML-shaped and mutated documents only ever fail with an S3Error, and whatever it accepts it
 * gives back (GetBucketReplication's document) in a form it accepts again, unchanged.
 */
import test from 'ava';
import fc from 'fast-check';
import { parseReplicationConfiguration, replicationXml } from '../../http/s3/replication-config.js';
import { renderXml } from '../../http/s3/xml.js';
import { check, mutatedText, onlyS3Error, tokenSoup } from '../helpers/fuzz-props.js';

const VALID =
  '<ReplicationConfiguration><Role>arn:aws:iam::1:role/r</Role><Rule><ID>a</ID><Priority>2</Priority><Status>Enabled</Status><Filter><And><Prefix>p/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication><Destination><Bucket>arn:aws:s3:::dest-bucket</Bucket><StorageClass>STANDARD</StorageClass></Destination></Rule><Rule><ID>b</ID><Priority>1</Priority><Status>Disabled</Status><Filter><Prefix>q/</Prefix></Filter><DeleteMarkerReplication><Status>Enabled</Status></DeleteMarkerReplication><Destination><Bucket>arn:aws:s3:::other-bucket</Bucket></Destination></Rule></ReplicationConfiguration>';

const VALID_V1 =
  '<ReplicationConfiguration><Rule><ID>v1</ID><Prefix>x</Prefix><Status>Enabled</Status><Destination><Bucket>arn:aws:s3:::dest-bucket</Bucket></Destination></Rule></ReplicationConfiguration>';

/** Every optional element: SourceSelectionCriteria, and the Destination's four. */
const VALID_OPTIONS =
  '<ReplicationConfiguration><Rule><ID>o</ID><Priority>1</Priority><Status>Enabled</Status><Filter><Prefix>p/</Prefix></Filter><SourceSelectionCriteria><SseKmsEncryptedObjects><Status>Enabled</Status></SseKmsEncryptedObjects><ReplicaModifications><Status>Disabled</Status></ReplicaModifications></SourceSelectionCriteria><DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication><Destination><Bucket>arn:aws:s3:::dest-bucket</Bucket><Account>123456789012</Account><AccessControlTranslation><Owner>Destination</Owner></AccessControlTranslation><EncryptionConfiguration><ReplicaKmsKeyID>arn:aws:kms:us-east-1:000000000000:key/k1</ReplicaKmsKeyID></EncryptionConfiguration><ReplicationTime><Status>Enabled</Status><Time><Minutes>15</Minutes></Time></ReplicationTime><Metrics><Status>Enabled</Status><EventThreshold><Minutes>15</Minutes></EventThreshold></Metrics></Destination></Rule><Rule><ID>m</ID><Priority>2</Priority><Status>Enabled</Status><Filter/><SourceSelectionCriteria><ReplicaModifications><Status>Enabled</Status></ReplicaModifications></SourceSelectionCriteria><DeleteMarkerReplication><Status>Enabled</Status></DeleteMarkerReplication><Destination><Bucket>arn:aws:s3:::other-bucket</Bucket><Metrics><Status>Disabled</Status></Metrics></Destination></Rule></ReplicationConfiguration>';

const TOKENS = [
  '<',
  '>',
  '</',
  '/>',
  '<Rule>',
  '</Rule>',
  '<ID>',
  '</ID>',
  '<Priority>',
  '</Priority>',
  '7',
  '-1',
  '99999999999',
  '<Status>',
  '</Status>',
  'Enabled',
  'Disabled',
  '<Filter>',
  '</Filter>',
  '<And>',
  '</And>',
  '<Prefix>',
  '</Prefix>',
  '<Tag>',
  '<Key>',
  '<Value>',
  '<DeleteMarkerReplication>',
  '<Destination>',
  '</Destination>',
  '<Bucket>',
  '</Bucket>',
  'arn:aws:s3:::b-b-b',
  '<StorageClass>',
  'GLACIER',
  '<ExistingObjectReplication>',
  '<Role>',
  '<SourceSelectionCriteria>',
  '</SourceSelectionCriteria>',
  '<SseKmsEncryptedObjects>',
  '<ReplicaModifications>',
  '<Account>',
  '123456789012',
  '<AccessControlTranslation>',
  '<Owner>',
  'Destination',
  '<EncryptionConfiguration>',
  '<ReplicaKmsKeyID>',
  '<ReplicationTime>',
  '<Time>',
  '<Metrics>',
  '<EventThreshold>',
  '<Minutes>',
  '15',
  '</Minutes>',
  '&amp;',
  '&#0;',
];

test('the ReplicationConfiguration reader fails only with S3 errors', (t) => {
  t.notThrows(() => parseReplicationConfiguration(VALID));
  t.notThrows(() => parseReplicationConfiguration(VALID_V1));
  t.notThrows(() => parseReplicationConfiguration(VALID_OPTIONS));
  const wrapped = tokenSoup(TOKENS).map(
    (inner) => `<ReplicationConfiguration>${inner}</ReplicationConfiguration>`,
  );
  const documents = fc.oneof(
    fc.string({ maxLength: 200 }),
    wrapped,
    mutatedText(fc.constantFrom(VALID, VALID_V1, VALID_OPTIONS), 6),
  );
  check(
    fc.property(documents, (xml) => {
      onlyS3Error(() => parseReplicationConfiguration(xml));
    }),
    500,
  );
  t.pass();
});

test('what the reader accepts round-trips through GetBucketReplication unchanged', (t) => {
  const documents = mutatedText(fc.constantFrom(VALID, VALID_V1, VALID_OPTIONS), 3);
  let accepted = 0;
  check(
    fc.property(documents, (xml) => {
      let stored: ReturnType<typeof parseReplicationConfiguration>;
      try {
        stored = parseReplicationConfiguration(xml);
      } catch {
        return;
      }
      accepted++;
      const again = parseReplicationConfiguration(
        renderXml('ReplicationConfiguration', replicationXml(stored)),
      );
      if (JSON.stringify(again) !== JSON.stringify(stored)) {
        throw new Error(`changed by a round trip: ${xml}`);
      }
    }),
    300,
  );
  t.true(accepted > 0, 'some mutations stay valid');
});
