/**
 * Property tests of the request documents issues 15 and 16 added: AccessControlPolicy,
 * PublicAccessBlockConfiguration, NotificationConfiguration, BucketLoggingStatus and
 * ServerSideEncryptionConfiguration. Random, XML-shaped and mutated documents only ever fail
 * with an S3Error (the readers' contract: a client's bad body is a 400, never a crash).
 */
import test from 'ava';
import fc from 'fast-check';
import { parseAclXml } from '../../http/s3/acl-xml.js';
import { parseBucketEncryption } from '../../http/s3/handlers/encryption.js';
import { parsePublicAccessBlock } from '../../http/s3/handlers/public-access.js';
import { parseLoggingStatus } from '../../http/s3/logging-config.js';
import { parseNotificationConfiguration } from '../../http/s3/notifications.js';
import { parseXml } from '../../http/s3/xml.js';
import { check, mutatedText, onlyS3Error, tokenSoup } from '../helpers/fuzz-props.js';

const TARGETS = [
  {
    name: 'hook',
    kind: 'webhook' as const,
    url: 'http://127.0.0.1:9/',
    secret: null,
    subject: null,
  },
];

/** Each reader, its root element, and a valid document to mutate. */
const READERS: ReadonlyArray<{ root: string; read: (xml: string) => unknown; valid: string }> = [
  {
    root: 'AccessControlPolicy',
    read: parseAclXml,
    valid:
      '<AccessControlPolicy xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Owner><ID>ab</ID></Owner><AccessControlList><Grant><Grantee xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>',
  },
  {
    root: 'PublicAccessBlockConfiguration',
    read: (xml) => parsePublicAccessBlock(parseXml(xml, 'PublicAccessBlockConfiguration')),
    valid:
      '<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls><RestrictPublicBuckets>false</RestrictPublicBuckets></PublicAccessBlockConfiguration>',
  },
  {
    root: 'NotificationConfiguration',
    read: (xml) => parseNotificationConfiguration(xml, 'us-east-1', TARGETS),
    valid:
      '<NotificationConfiguration><QueueConfiguration><Id>a</Id><Queue>arn:aws:sqs:us-east-1:000000000000:hook</Queue><Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>prefix</Name><Value>p/</Value></FilterRule></S3Key></Filter></QueueConfiguration></NotificationConfiguration>',
  },
  {
    root: 'BucketLoggingStatus',
    read: (xml) => parseLoggingStatus(parseXml(xml, 'BucketLoggingStatus')),
    valid:
      '<BucketLoggingStatus><LoggingEnabled><TargetBucket>logs</TargetBucket><TargetPrefix>a/</TargetPrefix><TargetObjectKeyFormat><PartitionedPrefix><PartitionDateSource>EventTime</PartitionDateSource></PartitionedPrefix></TargetObjectKeyFormat></LoggingEnabled></BucketLoggingStatus>',
  },
  {
    root: 'ServerSideEncryptionConfiguration',
    read: (xml) => parseBucketEncryption(parseXml(xml, 'ServerSideEncryptionConfiguration')),
    valid:
      '<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>',
  },
  {
    root: 'ServerSideEncryptionConfiguration',
    read: (xml) => parseBucketEncryption(parseXml(xml, 'ServerSideEncryptionConfiguration')),
    valid:
      '<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms:dsse</SSEAlgorithm><KMSMasterKeyID>alias/a</KMSMasterKeyID></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>',
  },
];

const TOKENS = [
  '<',
  '>',
  '</',
  '/>',
  '"',
  'xsi:type="CanonicalUser"',
  'xsi:type="Group"',
  '<Owner>',
  '<ID>',
  '</ID>',
  '<Grant>',
  '<Grantee>',
  '<Permission>',
  'FULL_CONTROL',
  '<URI>',
  '<BlockPublicAcls>',
  'true',
  'false',
  '<QueueConfiguration>',
  '<TopicConfiguration>',
  '<Event>',
  's3:ObjectCreated:*',
  '<Filter>',
  '<FilterRule>',
  '<Name>',
  'suffix',
  '<LoggingEnabled>',
  '<TargetBucket>',
  '<TargetGrants>',
  '<SimplePrefix/>',
  '<Rule>',
  '<SSEAlgorithm>',
  'AES256',
  'aws:kms:dsse',
  '<KMSMasterKeyID>',
  '<BucketKeyEnabled>',
  '&amp;',
  '&#0;',
];

test('the access and bucket-configuration readers fail only with S3 errors', (t) => {
  for (const reader of READERS) {
    t.notThrows(() => reader.read(reader.valid), `${reader.root}: its valid example reads`);
    const wrapped = tokenSoup(TOKENS).map((inner) => `<${reader.root}>${inner}</${reader.root}>`);
    const documents = fc.oneof(
      fc.string({ maxLength: 200 }),
      wrapped,
      mutatedText(fc.constant(reader.valid), 6),
    );
    check(
      fc.property(documents, (xml) => {
        onlyS3Error(() => reader.read(xml));
      }),
      300,
    );
  }
  t.pass();
});
