/**
 * Property tests of the InventoryConfiguration reader (PutBucketInventoryConfiguration): random,
 * XML-shaped and mutated documents only ever fail with an S3Error, and whatever it accepts
 * renders back to a document it reads to the same configuration.
 */
import test from 'ava';
import fc from 'fast-check';
import { inventoryConfigXml, parseInventoryConfiguration } from '../../http/inventory/config.js';
import { renderXml } from '../../http/s3/xml.js';
import { check, mutatedText, onlyS3Error, tokenSoup } from '../helpers/fuzz-props.js';

const VALID =
  '<InventoryConfiguration><Id>r1</Id><IsEnabled>true</IsEnabled><Filter><Prefix>a/</Prefix></Filter><Destination><S3BucketDestination><AccountId>1</AccountId><Bucket>arn:aws:s3:::dest-b</Bucket><Format>CSV</Format><Prefix>p</Prefix><Encryption><SSE-KMS><KeyId>k</KeyId></SSE-KMS></Encryption></S3BucketDestination></Destination><Schedule><Frequency>Weekly</Frequency></Schedule><IncludedObjectVersions>All</IncludedObjectVersions><OptionalFields><Field>Size</Field><Field>ETag</Field></OptionalFields></InventoryConfiguration>';

const TOKENS = [
  '<Id>r1</Id>',
  '<IsEnabled>',
  '</IsEnabled>',
  'true',
  'false',
  '<Destination>',
  '</Destination>',
  '<S3BucketDestination>',
  '</S3BucketDestination>',
  '<Bucket>arn:aws:s3:::dest-b</Bucket>',
  '<Format>',
  'CSV',
  'ORC',
  '</Format>',
  '<Encryption>',
  '<SSE-S3/>',
  '<SSE-KMS><KeyId>k</KeyId></SSE-KMS>',
  '</Encryption>',
  '<Schedule><Frequency>Daily</Frequency></Schedule>',
  '<IncludedObjectVersions>All</IncludedObjectVersions>',
  '<OptionalFields>',
  '<Field>Size</Field>',
  '<Field>Size</Field>',
  '</OptionalFields>',
  '<Filter><Prefix>',
  '</Prefix></Filter>',
  '&amp;',
  '&#0;',
];

const read = (xml: string) => parseInventoryConfiguration(xml, 'r1');

test('the InventoryConfiguration reader fails only with S3 errors, and round-trips', (t) => {
  t.notThrows(() => read(VALID));
  const wrapped = tokenSoup(TOKENS).map(
    (inner) => `<InventoryConfiguration>${inner}</InventoryConfiguration>`,
  );
  const documents = fc.oneof(
    fc.string({ maxLength: 200 }),
    wrapped,
    mutatedText(fc.constant(VALID), 6),
  );
  check(
    fc.property(documents, (xml) => {
      onlyS3Error(() => {
        const config = read(xml);
        const again = read(renderXml('InventoryConfiguration', inventoryConfigXml(config)));
        if (JSON.stringify(again) !== JSON.stringify(config)) {
          throw new Error(`round trip changed ${JSON.stringify(config)}`);
        }
      });
    }),
    500,
  );
  t.pass();
});
