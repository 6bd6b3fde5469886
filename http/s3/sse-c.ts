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
