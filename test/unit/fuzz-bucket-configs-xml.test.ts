/**
 * Property tests of issue 18's configuration readers (accelerate, request payment, analytics,
 * metrics, intelligent tiering): random, XML-shaped and mutated documents only ever fail with an S3Error, and what
 * a reader accepts, rendered as its Get answers it, is read back unchanged.
 */
import test from 'ava';
import fc from 'fast-check';
import { analyticsXml, parseAnalyticsConfiguration } from '../../http/s3/analytics-config.js';
import { accelerateXml, parseAccelerateConfiguration } from '../../http/s3/handlers/accelerate.js';
import { parseRequestPayment } from '../../http/s3/handlers/request-payment.js';
import {
  intelligentTieringXml,
  parseIntelligentTiering,
} from '../../http/s3/intelligent-tiering-config.js';
import { metricsXml, parseMetricsConfiguration } from '../../http/s3/metrics-config.js';
import { parseXml, renderXml, type XmlNode } from '../../http/s3/xml.js';
import { check, mutatedText, onlyS3Error, tokenSoup } from '../helpers/fuzz-props.js';

interface Reader {
  readonly root: string;
  readonly valid: readonly string[];
  /** Reads a document (under the URL id 'id-1' where the family has ids). */
  readonly read: (document: XmlNode) => unknown;
  /** Renders what `read` returned as the Get answer's content. */
  readonly render: (stored: never) => XmlNode;
}

const ANALYTICS_FULL =
  '<AnalyticsConfiguration><Id>id-1</Id><Filter><And><Prefix>logs/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag><Tag><Key>k2</Key><Value></Value></Tag></And></Filter><StorageClassAnalysis><DataExport><OutputSchemaVersion>V_1</OutputSchemaVersion><Destination><S3BucketDestination><Format>CSV</Format><BucketAccountId>123456789012</BucketAccountId><Bucket>arn:aws:s3:::dest-bucket</Bucket><Prefix>out/</Prefix></S3BucketDestination></Destination></DataExport></StorageClassAnalysis></AnalyticsConfiguration>';
const ANALYTICS_SMALL =
  '<AnalyticsConfiguration><Id>id-1</Id><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><StorageClassAnalysis/></AnalyticsConfiguration>';
const METRICS_AND =
  '<MetricsConfiguration><Id>id-1</Id><Filter><And><Prefix>p</Prefix><Tag><Key>k</Key><Value>v</Value></Tag><AccessPointArn>arn:aws:s3:us-east-1:123456789012:accesspoint/ap-1</AccessPointArn></And></Filter></MetricsConfiguration>';
const METRICS_PREFIX =
  '<MetricsConfiguration><Id>id-1</Id><Filter><Prefix>images/</Prefix></Filter></MetricsConfiguration>';

const TIERING_BOTH =
  '<IntelligentTieringConfiguration><Id>id-1</Id><Filter><And><Prefix>docs/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><Status>Enabled</Status><Tiering><AccessTier>ARCHIVE_ACCESS</AccessTier><Days>90</Days></Tiering><Tiering><AccessTier>DEEP_ARCHIVE_ACCESS</AccessTier><Days>180</Days></Tiering></IntelligentTieringConfiguration>';
const TIERING_PREFIX =
  '<IntelligentTieringConfiguration><Id>id-1</Id><Filter><Prefix>p/</Prefix></Filter><Status>Disabled</Status><Tiering><AccessTier>DEEP_ARCHIVE_ACCESS</AccessTier><Days>730</Days></Tiering></IntelligentTieringConfiguration>';

const READERS: readonly Reader[] = [
  {
    root: 'AccelerateConfiguration',
    valid: [
      '<AccelerateConfiguration><Status>Enabled</Status></AccelerateConfiguration>',
      '<AccelerateConfiguration><Status>Suspended</Status></AccelerateConfiguration>',
    ],
    read: parseAccelerateConfiguration,
    render: accelerateXml as (stored: never) => XmlNode,
  },
  {
    root: 'RequestPaymentConfiguration',
    valid: [
      '<RequestPaymentConfiguration><Payer>Requester</Payer></RequestPaymentConfiguration>',
      '<RequestPaymentConfiguration><Payer>BucketOwner</Payer></RequestPaymentConfiguration>',
    ],
    read: parseRequestPayment,
    render: ((payer: string) => ({ Payer: payer })) as (stored: never) => XmlNode,
  },
  {
    root: 'AnalyticsConfiguration',
    valid: [ANALYTICS_FULL, ANALYTICS_SMALL],
    read: (document) => parseAnalyticsConfiguration(document, 'id-1'),
    render: analyticsXml as (stored: never) => XmlNode,
  },
  {
    root: 'MetricsConfiguration',
    valid: [METRICS_AND, METRICS_PREFIX],
    read: (document) => parseMetricsConfiguration(document, 'id-1'),
    render: metricsXml as (stored: never) => XmlNode,
  },
  {
    root: 'IntelligentTieringConfiguration',
    valid: [TIERING_BOTH, TIERING_PREFIX],
    read: (document) => parseIntelligentTiering(document, 'id-1'),
    render: intelligentTieringXml as (stored: never) => XmlNode,
  },
];

const TOKENS = [
  '<',
  '>',
  '</',
  '/>',
  '<Id>',
  '</Id>',
  'id-1',
  '<Status>',
  'Enabled',
  '<Payer>',
  '<Tiering>',
  '<AccessTier>',
  'ARCHIVE_ACCESS',
  '<Days>',
  '90',
  'Requester',
  '<Filter>',
  '</Filter>',
  '<And>',
  '</And>',
  '<Prefix>',
  '</Prefix>',
  '<Tag>',
  '</Tag>',
  '<Key>',
  '</Key>',
  '<Value>',
  '</Value>',
  'aws:x',
  '<AccessPointArn>',
  '<StorageClassAnalysis>',
  '</StorageClassAnalysis>',
  '<DataExport>',
  '<OutputSchemaVersion>',
  'V_1',
  '<Destination>',
  '<S3BucketDestination>',
  '<Format>',
  'CSV',
  '<Bucket>',
  'arn:aws:s3:::b-b-b',
  '&amp;',
  '&#0;',
];

function readText(reader: Reader, xml: string): unknown {
  return reader.read(parseXml(xml, reader.root));
}

test('the configuration readers fail only with S3 errors', (t) => {
  for (const reader of READERS) {
    for (const valid of reader.valid) t.notThrows(() => readText(reader, valid), valid);
    const wrapped = tokenSoup(TOKENS).map((inner) => `<${reader.root}>${inner}</${reader.root}>`);
    const documents = fc.oneof(
      fc.string({ maxLength: 200 }),
      wrapped,
      mutatedText(fc.constantFrom(...reader.valid), 6),
    );
    check(
      fc.property(documents, (xml) => {
        onlyS3Error(() => readText(reader, xml));
      }),
      300,
    );
  }
  t.pass();
});

test('what a reader accepts round-trips through its Get answer unchanged', (t) => {
  for (const reader of READERS) {
    let accepted = 0;
    check(
      fc.property(mutatedText(fc.constantFrom(...reader.valid), 3), (xml) => {
        let stored: unknown;
        try {
          stored = readText(reader, xml);
        } catch {
          return;
        }
        accepted++;
        const rendered = renderXml(reader.root, reader.render(stored as never));
        const again = readText(reader, rendered);
        if (JSON.stringify(again) !== JSON.stringify(stored)) {
          throw new Error(`changed by a round trip: ${xml} -> ${rendered}`);
        }
      }),
      // Most byte edits make a short document invalid, and raw control characters are
      // MalformedXML: 1000 runs so that some accepted mutations always reach the round trip.
      1000,
    );
    t.true(accepted > 0, `${reader.root}: some mutations stay valid`);
  }
});
