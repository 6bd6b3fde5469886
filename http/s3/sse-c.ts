import { createHash } from 'node:crypto';
import { type HangarConfig, tlsFilesOf } from '../../engine/config.js';
import type { CustomerKey } from '../../engine/sse-c.js';
import { S3Error } from './errors.js';

const PREFIX = 'x-amz-server-side-encryption-customer-';
const COPY_SOURCE_PREFIX = 'x-amz-copy-source-server-side-encryption-customer-';

/**
 * AWS refuses any request that carries SSE-C headers (of the object or of a copy source) over
 * plain HTTP, since the key crossed the network in clear: hangar does too, unless it serves TLS
 * itself or the operator says a TLS-terminating proxy stands in front (s3.allow_sse_c_over_http).
 * `names` are the request's header names (or a form's field names), lower-case.
 */
export function refuseSseCInClear(config: HangarConfig, names: Iterable<string>): void {
  if (tlsFilesOf(config) !== null || config.s3.allowSseCOverHttp) return;
  for (const name of names) {
    if (name.startsWith(PREFIX) || name.startsWith(COPY_SOURCE_PREFIX)) {
      throw new S3Error(
        'InvalidRequest',
        'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.',
      );
    }
  }
}

/** The SSE-C key of a request (or, with `copySource`, of its copy source), validated as S3 does. */
export function customerKeyOf(
  headers: Readonly<Record<string, string>>,
  copySource = false,
): CustomerKey | null {
  const prefix = copySource ? COPY_SOURCE_PREFIX : PREFIX;
  const algorithm = headers[`${prefix}algorithm`];
  const key = headers[`${prefix}key`];
  const md5 = headers[`${prefix}key-md5`];
  if (algorithm === undefined && key === undefined && md5 === undefined) return null;
  if (algorithm !== 'AES256') {
    throw new S3Error(
      'InvalidArgument',
      'The encryption algorithm specified is not valid. Supported value: AES256.',
      { ArgumentName: `${prefix}algorithm`, ArgumentValue: algorithm ?? 'null' },
    );
  }
  if (key === undefined) {
    throw new S3Error(
      'InvalidArgument',
      'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.',
      { ArgumentName: `${prefix}key` },
    );
  }
  if (md5 === undefined) {
    throw new S3Error(
      'InvalidArgument',
      'Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.',
      { ArgumentName: `${prefix}key-MD5` },
    );
  }
  const bytes = Buffer.from(key, 'base64');
  if (bytes.length !== 32) {
    throw new S3Error(
      'InvalidArgument',
      'The secret key was invalid for the specified algorithm.',
      { ArgumentName: `${prefix}key` },
    );
  }
  if (createHash('md5').update(bytes).digest('base64') !== md5) {
    throw new S3Error(
      'InvalidArgument',
      'The calculated MD5 hash of the key did not match the hash that was provided.',
      { ArgumentName: `${prefix}key-MD5` },
    );
  }
  return { key: bytes, md5Base64: md5 };
}

/** The response headers that tell a client its object is SSE-C encrypted, with which key. */
export function sseResponseHeaders(keyMd5: string | null): Array<[string, string]> {
  if (keyMd5 === null) return [];
  return [
    [`${PREFIX}algorithm`, 'AES256'],
    [`${PREFIX}key-md5`, keyMd5],
  ];
}

/** The values S3 takes in x-amz-server-side-encryption. */
const SERVER_SIDE_ENCRYPTION_VALUES = new Set(['AES256', 'aws:kms', 'aws:kms:dsse']);
const SSE = 'x-amz-server-side-encryption';
/** Headers that only mean something with SSE-KMS. */
const KMS_HEADERS = [`${SSE}-aws-kms-key-id`, `${SSE}-context`];

/**
 * Refuses SSE-S3 and SSE-KMS (x-amz-server-side-encryption and the KMS headers, or the same-named
 * PostObject fields): hangar has no managed keys yet, and storing plaintext for a client that
 * asked for encryption would be a silent lie. A value S3 would not take is its 400
 * InvalidArgument; a valid request hangar cannot honour is 501 NotImplemented, as every other
 * unimplemented S3 feature is (the request is correct; the server lacks the feature).
 */
export function refuseManagedEncryption(headers: Readonly<Record<string, string>>): void {
  const requested = headers[SSE];
  if (requested !== undefined && !SERVER_SIDE_ENCRYPTION_VALUES.has(requested)) {
    throw new S3Error('InvalidArgument', 'The encryption method specified is not supported', {
      ArgumentName: SSE,
      ArgumentValue: requested,
    });
  }
  const kms = KMS_HEADERS.find((name) => headers[name] !== undefined);
  const bucketKey = headers[`${SSE}-bucket-key-enabled`]?.toLowerCase() === 'true';
  if (requested === undefined && kms === undefined && !bucketKey) return;
  throw new S3Error(
    'NotImplemented',
    `Server-side encryption with S3- or KMS-managed keys (${requested === undefined ? (kms ?? `${SSE}-bucket-key-enabled`) : `${SSE}: ${requested}`}) is not implemented by hangar yet; use SSE-C (customer-provided keys).`,
  );
}
