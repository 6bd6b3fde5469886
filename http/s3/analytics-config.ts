import {
  checkedArn,
  checkedPrefix,
  configFilterXml,
  parseConfigFilter,
  type StoredConfigFilter,
} from './config-filter.js';
import { S3Error } from './errors.js';
import { checkConfigElements, documentIdOf } from './id-configs.js';
import { checkElements, elementOf, optionalText, type XmlNode, type XmlValue } from './xml.js';

/**
 * An AnalyticsConfiguration (storage class analysis) as stored: hangar has one storage class,
 * so there is nothing to analyse and no report is written; the configuration is validated,
 * kept and returned exactly, as clients and infrastructure tools expect of an S3 endpoint.
 */
export interface StoredAnalytics {
  id: string;
  filter?: StoredConfigFilter;
  /** StorageClassAnalysis's DataExport (absent: the analysis is not exported). */
  dataExport?: AnalyticsExport;
}

export interface AnalyticsExport {
  /** Always V_1, the one version AWS defines. */
  outputSchemaVersion: 'V_1';
  /** The S3BucketDestination: always CSV. */
  format: 'CSV';
  bucketArn: string;
  bucketAccountId?: string;
  prefix?: string;
}

/** Parses an AnalyticsConfiguration document put under `urlId`. */
export function parseAnalyticsConfiguration(document: XmlNode, urlId: string): StoredAnalytics {
  checkConfigElements(document, ['Filter', 'StorageClassAnalysis']);
  const id = documentIdOf(document, urlId);
  if (document.StorageClassAnalysis === undefined) throw new S3Error('MalformedXML');
  const analysis = elementOf(document.StorageClassAnalysis);
  checkElements(analysis, ['DataExport']);
  return {
    id,
    ...(document.Filter !== undefined
      ? { filter: parseConfigFilter(document.Filter, 'analytics') }
      : {}),
    ...(analysis.DataExport !== undefined ? { dataExport: parseExport(analysis.DataExport) } : {}),
  };
}

/** A child element that must be there (MalformedXML when it is not). */
function required(node: XmlNode, name: string): XmlValue {
  const value = node[name];
  if (value === undefined) throw new S3Error('MalformedXML');
  return value;
}

function parseExport(value: XmlValue): AnalyticsExport {
  const node = elementOf(value);
  checkElements(node, ['OutputSchemaVersion', 'Destination']);
  if (optionalText(node, 'OutputSchemaVersion') !== 'V_1') throw new S3Error('MalformedXML');
  const destination = elementOf(required(node, 'Destination'));
  checkElements(destination, ['S3BucketDestination']);
  const bucket = elementOf(required(destination, 'S3BucketDestination'));
  checkElements(bucket, ['Format', 'BucketAccountId', 'Bucket', 'Prefix']);
  if (optionalText(bucket, 'Format') !== 'CSV') throw new S3Error('MalformedXML');
  const accountId = optionalText(bucket, 'BucketAccountId');
  if (accountId !== undefined && !/^\d{12}$/.test(accountId)) {
    throw new S3Error('InvalidArgument', 'Invalid account id', { ArgumentName: 'BucketAccountId' });
  }
  const prefix = optionalText(bucket, 'Prefix');
  return {
    outputSchemaVersion: 'V_1',
    format: 'CSV',
    bucketArn: checkedBucketArn(optionalText(bucket, 'Bucket')),
    ...(accountId !== undefined ? { bucketAccountId: accountId } : {}),
    ...(prefix !== undefined ? { prefix: checkedPrefix(prefix) } : {}),
  };
}

/** `arn:aws:s3:::<bucket>` (any partition), as AWS takes export destinations. */
const BUCKET_ARN = /^arn:[a-z-]+:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function checkedBucketArn(arn: string | undefined): string {
  if (arn === undefined) throw new S3Error('MalformedXML');
  return checkedArn(arn, BUCKET_ARN, 'Bucket', 'Invalid bucket ARN');
}

/** The AnalyticsConfiguration element's content, as it was put. */
export function analyticsXml(config: StoredAnalytics): XmlNode {
  const exported = config.dataExport;
  return {
    Id: config.id,
    ...(config.filter !== undefined ? { Filter: configFilterXml(config.filter) } : {}),
    StorageClassAnalysis:
      exported === undefined
        ? {}
        : {
            DataExport: {
              OutputSchemaVersion: exported.outputSchemaVersion,
              Destination: {
                S3BucketDestination: {
                  Format: exported.format,
                  ...(exported.bucketAccountId !== undefined
                    ? { BucketAccountId: exported.bucketAccountId }
                    : {}),
                  Bucket: exported.bucketArn,
                  ...(exported.prefix !== undefined ? { Prefix: exported.prefix } : {}),
                },
              },
            },
          },
  };
}
