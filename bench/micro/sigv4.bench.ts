/**
 * SigV4 verification of a GET as the AWS SDK v3 signs it (Authorization header) and as a presigned
 * URL (the load bench's requests): parse, rebuild the canonical request, hash it, HMAC the
 * string to sign, compare. The reference is the one HMAC-SHA256 of the string to sign that no
 * verifier can skip (the signing key is cached in both cases), so the ratio is what parsing and
 * canonicalization add on top of the crypto floor; the middle task (canonicalization and
 * signing without header parsing) splits the difference.
 */
import {
  type CanonicalRequestInput,
  canonicalRequest,
  credentialScope,
  deriveSigningKey,
  S3_SERVICE,
  SIGV4_ALGORITHM,
  signHex,
  stringToSign,
} from '../../http/sigv4/canonical.js';
import { verifyRequest } from '../../http/sigv4/verify.js';
import type { RequestSnapshot } from '../../http/uws/request.js';
import {
  check,
  type MicroOptions,
  type MicroResult,
  newBench,
  REF_PREFIX,
  runGroup,
} from './harness.js';

const ACCESS_KEY = 'HKBENCHMARKKEY000001';
const SECRET = 'bench-secret-bench-secret-bench-secret00';
const REGION = 'us-east-1';
const NOW_MS = Date.UTC(2025, 0, 15, 12, 30, 0);
const AMZ_DATE = '20250115T123000Z';
const DATE = AMZ_DATE.slice(0, 8);

/** A signed GET with the headers the SDK signs, a key needing percent-encoding, and a query. */
function signedGet(): {
  req: RequestSnapshot;
  signingKey: Buffer;
  toSign: string;
  canonicalInput: CanonicalRequestInput;
  scope: string;
} {
  const rawPath = '/photos/2024/05/holiday%20pictures/IMG_0042.jpg';
  const rawQuery = 'x-id=GetObject';
  const unsigned: Record<string, string> = {
    host: '127.0.0.1:3900',
    'amz-sdk-invocation-id': '6c1f3c8e-5a7b-4e0d-9a51-3f1c2b7d8e90',
    'amz-sdk-request': 'attempt=1; max=3',
    'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    'x-amz-date': AMZ_DATE,
    'x-amz-user-agent': 'aws-sdk-js/3.1175.0',
    'user-agent': 'aws-sdk-js/3.1175.0 ua/2.1 os/linux#6.1 lang/js md/nodejs#20.19.0',
    accept: '*/*',
    range: 'bytes=0-65535',
  };
  const signedHeaders = [
    'amz-sdk-invocation-id',
    'amz-sdk-request',
    'host',
    'range',
    'x-amz-content-sha256',
    'x-amz-date',
    'x-amz-user-agent',
  ];
  const scope = credentialScope(DATE, REGION, S3_SERVICE);
  const canonicalInput: CanonicalRequestInput = {
    method: 'GET',
    rawPath,
    rawQuery,
    headers: unsigned,
    signedHeaders,
    payloadHash: 'UNSIGNED-PAYLOAD',
  };
  const canonical = canonicalRequest(canonicalInput);
  const toSign = stringToSign(AMZ_DATE, scope, canonical);
  const signingKey = deriveSigningKey(SECRET, DATE, REGION, S3_SERVICE);
  const signature = signHex(signingKey, toSign);
  const authorization = `${SIGV4_ALGORITHM} Credential=${ACCESS_KEY}/${scope}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`;
  const req = { method: 'GET', rawPath, rawQuery, headers: { ...unsigned, authorization } };
  return { req, signingKey, toSign, canonicalInput, scope };
}

/** The same GET as a presigned URL (what the load bench sends): only host signed. */
function presignedGet(signingKey: Buffer, scope: string): RequestSnapshot {
  const rawPath = '/photos/2024/05/holiday%20pictures/IMG_0042.jpg';
  const credential = encodeURIComponent(`${ACCESS_KEY}/${scope}`);
  const unsignedQuery = `X-Amz-Algorithm=${SIGV4_ALGORITHM}&X-Amz-Credential=${credential}&X-Amz-Date=${AMZ_DATE}&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&x-id=GetObject`;
  const headers = { host: '127.0.0.1:3900', accept: '*/*', 'user-agent': 'wrk' };
  const canonical = canonicalRequest({
    method: 'GET',
    rawPath,
    rawQuery: unsignedQuery,
    headers,
    signedHeaders: ['host'],
    payloadHash: 'UNSIGNED-PAYLOAD',
  });
  const signature = signHex(signingKey, stringToSign(AMZ_DATE, scope, canonical));
  return {
    method: 'GET',
    rawPath,
    rawQuery: `${unsignedQuery}&X-Amz-Signature=${signature}`,
    headers,
  };
}

export async function run(opts: MicroOptions): Promise<MicroResult[]> {
  const { req, signingKey, toSign, canonicalInput, scope } = signedGet();
  const presigned = presignedGet(signingKey, scope);
  const lookup = (id: string): string | undefined => (id === ACCESS_KEY ? SECRET : undefined);
  const verifyOpts = { region: REGION, nowMs: NOW_MS };
  check(verifyRequest(req, lookup, verifyOpts)?.accessKeyId === ACCESS_KEY, 'GET verifies');
  check(verifyRequest(presigned, lookup, verifyOpts)?.accessKeyId === ACCESS_KEY, 'URL verifies');

  let sink = 0;
  const bench = newBench('sigv4', opts)
    .add('verifyRequest (signed GET)', () => {
      sink += verifyRequest(req, lookup, verifyOpts) === null ? 0 : 1;
    })
    .add('verifyRequest (presigned GET)', () => {
      sink += verifyRequest(presigned, lookup, verifyOpts) === null ? 0 : 1;
    })
    .add('canonical request + string-to-sign + HMAC (no parsing)', () => {
      const canonical = canonicalRequest(canonicalInput);
      sink += signHex(signingKey, stringToSign(AMZ_DATE, scope, canonical)).length;
    })
    .add(`${REF_PREFIX}HMAC-SHA256 of string-to-sign`, () => {
      sink += signHex(signingKey, toSign).length;
    });
  const results = await runGroup('sigv4', bench);
  check(sink > 0, 'work was done');
  return results;
}
