import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, HttpRequest, SourceData } from '@smithy/types';
import test from 'ava';
import {
  canonicalQueryString,
  canonicalUri,
  credentialScope,
  deriveSigningKey,
  signHex,
} from '../../http/sigv4/canonical.js';
import { AwsChunkedDecoder, type ChunkedDecoderOptions } from '../../http/sigv4/chunked.js';
import {
  type AuthResult,
  type ChunkSigningContext,
  type VerifyOptions,
  verifyRequest,
} from '../../http/sigv4/verify.js';
import type { RequestSnapshot } from '../../http/uws/request.js';
import { snapshot, throwsS3 } from '../helpers/verifier.js';

// The credentials and clock of every example in the AWS S3 SigV4 documentation.
const AKID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const DOC_NOW = Date.UTC(2013, 4, 24, 0, 0, 0);
const DOC_DATE = '20130524T000000Z';
const DOC_OPTS: VerifyOptions = { region: 'us-east-1', nowMs: DOC_NOW };
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const HOST = 'examplebucket.s3.amazonaws.com';

const lookup = (accessKeyId: string): string | undefined =>
  accessKeyId === AKID ? SECRET : undefined;

function authHeader(signedHeaders: string, signature: string): string {
  return `AWS4-HMAC-SHA256 Credential=${AKID}/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signedHeaders},Signature=${signature}`;
}

function verify(req: RequestSnapshot, opts: VerifyOptions = DOC_OPTS): AuthResult | null {
  return verifyRequest(req, lookup, opts);
}

// ---------------------------------------------------------------------------------------------
// AWS documentation vectors: "Signature Calculations for the Authorization Header: Transferring
// Payload in a Single Chunk" (sig-v4-header-based-auth).

function docGetObject(
  signature = 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
) {
  return snapshot('GET', '/test.txt', {
    host: HOST,
    range: 'bytes=0-9',
    'x-amz-content-sha256': EMPTY_SHA256,
    'x-amz-date': DOC_DATE,
    authorization: authHeader('host;range;x-amz-content-sha256;x-amz-date', signature),
  });
}

test('AWS example: GET object with range', (t) => {
  const result = verify(docGetObject());
  t.deepEqual(result, { accessKeyId: AKID, payload: { kind: 'sha256', hex: EMPTY_SHA256 } });
});

test('AWS example: PUT object with a "$" in the key and a Date header', (t) => {
  const payloadHash = createHash('sha256').update('Welcome to Amazon S3.').digest('hex');
  t.is(payloadHash, '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072');
  const headers = {
    host: HOST,
    date: 'Fri, 24 May 2013 00:00:00 GMT',
    'x-amz-date': DOC_DATE,
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    'x-amz-content-sha256': payloadHash,
    authorization: authHeader(
      'date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class',
      '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
    ),
  };
  // Sent encoded and sent raw, the key canonicalizes the same way.
  for (const path of ['/test%24file.text', '/test$file.text']) {
    const result = verify(snapshot('PUT', path, headers));
    t.deepEqual(result?.payload, { kind: 'sha256', hex: payloadHash });
  }
});

test('AWS example: GET bucket lifecycle (query parameter without value)', (t) => {
  const req = snapshot('GET', '/?lifecycle', {
    host: HOST,
    'x-amz-content-sha256': EMPTY_SHA256,
    'x-amz-date': DOC_DATE,
    authorization: authHeader(
      'host;x-amz-content-sha256;x-amz-date',
      'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543',
    ),
  });
  t.is(verify(req)?.accessKeyId, AKID);
});

test('AWS example: list objects (query sorted by name)', (t) => {
  const headers = {
    host: HOST,
    'x-amz-content-sha256': EMPTY_SHA256,
    'x-amz-date': DOC_DATE,
    authorization: authHeader(
      'host;x-amz-content-sha256;x-amz-date',
      '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7',
    ),
  };
  t.is(verify(snapshot('GET', '/?max-keys=2&prefix=J', headers))?.accessKeyId, AKID);
  t.is(verify(snapshot('GET', '/?prefix=J&max-keys=2', headers))?.accessKeyId, AKID);
});

// "Authenticating Requests: Using Query Parameters" (sigv4-query-string-auth).
const DOC_PRESIGNED =
  '/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';

test('AWS example: presigned GET', (t) => {
  const result = verify(snapshot('GET', DOC_PRESIGNED, { host: HOST }));
  t.deepEqual(result, { accessKeyId: AKID, payload: { kind: 'unsigned' } });
  // Still valid one second before it expires.
  const late = { ...DOC_OPTS, nowMs: DOC_NOW + 86400_000 - 1000 };
  t.is(verify(snapshot('GET', DOC_PRESIGNED, { host: HOST }), late)?.accessKeyId, AKID);
});

test('expired presigned URL is refused', (t) => {
  const late = { ...DOC_OPTS, nowMs: DOC_NOW + 86400_000 + 1000 };
  const err = throwsS3(
    t,
    () => verify(snapshot('GET', DOC_PRESIGNED, { host: HOST }), late),
    'AccessDenied',
    'Request has expired',
  );
  t.is(err.fields.Expires, '2013-05-25T00:00:00Z');
});

test('presigned URL: X-Amz-Expires out of range, missing parameters, tampering', (t) => {
  const req = (target: string) => snapshot('GET', target, { host: HOST });
  const week = DOC_PRESIGNED.replace('X-Amz-Expires=86400', 'X-Amz-Expires=604801');
  throwsS3(t, () => verify(req(week)), 'AuthorizationQueryParametersError');
  const zero = DOC_PRESIGNED.replace('X-Amz-Expires=86400', 'X-Amz-Expires=0');
  throwsS3(t, () => verify(req(zero)), 'AuthorizationQueryParametersError');
  const missing = DOC_PRESIGNED.replace('&X-Amz-SignedHeaders=host', '');
  throwsS3(t, () => verify(req(missing)), 'AuthorizationQueryParametersError');
  const longer = DOC_PRESIGNED.replace('X-Amz-Expires=86400', 'X-Amz-Expires=86401');
  throwsS3(t, () => verify(req(longer)), 'SignatureDoesNotMatch');
  const otherKey = DOC_PRESIGNED.replace('/test.txt', '/test2.txt');
  throwsS3(t, () => verify(req(otherKey)), 'SignatureDoesNotMatch');
  const withAuth = snapshot('GET', DOC_PRESIGNED, { host: HOST, authorization: 'x' });
  throwsS3(t, () => verify(withAuth), 'InvalidArgument');
});

// ---------------------------------------------------------------------------------------------
// Failures

test('anonymous request yields null', (t) => {
  t.is(verify(snapshot('GET', '/bucket/key?list-type=2', { host: HOST })), null);
});

test('unknown access key is InvalidAccessKeyId', (t) => {
  const err = throwsS3(
    t,
    () => verifyRequest(docGetObject(), () => undefined, DOC_OPTS),
    'InvalidAccessKeyId',
  );
  t.is(err.fields.AWSAccessKeyId, AKID);
});

test('wrong secret or tampered request is SignatureDoesNotMatch', (t) => {
  throwsS3(
    t,
    () => verifyRequest(docGetObject(), () => 'not-the-secret', DOC_OPTS),
    'SignatureDoesNotMatch',
  );
  const tampered = docGetObject();
  const headers = { ...tampered.headers, range: 'bytes=0-10' };
  const err = throwsS3(t, () => verify({ ...tampered, headers }), 'SignatureDoesNotMatch');
  t.true(err.fields.CanonicalRequest?.includes('range:bytes=0-10'));
  throwsS3(t, () => verify(docGetObject('0'.repeat(64))), 'SignatureDoesNotMatch');
  throwsS3(t, () => verify(docGetObject('short')), 'SignatureDoesNotMatch');
});

test('clock skew beyond 15 minutes is RequestTimeTooSkewed', (t) => {
  const ok = { ...DOC_OPTS, nowMs: DOC_NOW + 14 * 60_000 };
  t.truthy(verify(docGetObject(), ok));
  for (const nowMs of [DOC_NOW + 16 * 60_000, DOC_NOW - 16 * 60_000]) {
    const err = throwsS3(
      t,
      () => verify(docGetObject(), { ...DOC_OPTS, nowMs }),
      'RequestTimeTooSkewed',
    );
    t.is(err.fields.MaxAllowedSkewMilliseconds, '900000');
  }
});

test('credential scope for another region is AuthorizationHeaderMalformed with Region', (t) => {
  const err = throwsS3(
    t,
    () => verify(docGetObject(), { ...DOC_OPTS, region: 'eu-west-1' }),
    'AuthorizationHeaderMalformed',
    "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'",
  );
  t.is(err.fields.Region, 'eu-west-1');
});

test('malformed authorization headers', (t) => {
  const base = docGetObject();
  const withAuth = (authorization: string) =>
    verify({ ...base, headers: { ...base.headers, authorization } });
  throwsS3(t, () => withAuth('AWS4-HMAC-SHA256 Credential=x'), 'AuthorizationHeaderMalformed');
  throwsS3(
    t,
    () => withAuth(authHeader('host', 'x').replace('/s3/', '/ec2/')),
    'AuthorizationHeaderMalformed',
  );
  throwsS3(
    t,
    () => withAuth(authHeader('host', 'x').replace('/20130524/', '/20130523/')),
    'AuthorizationHeaderMalformed',
  );
  throwsS3(
    t,
    () => withAuth('AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg='),
    'InvalidRequest',
  );
  throwsS3(t, () => withAuth('Bearer abc'), 'InvalidArgument');
});

test('x-amz-content-sha256 missing or invalid', (t) => {
  const base = docGetObject();
  const without = { ...base.headers };
  delete without['x-amz-content-sha256'];
  throwsS3(
    t,
    () => verify({ ...base, headers: without }),
    'InvalidRequest',
    'Missing required header for this request: x-amz-content-sha256',
  );
  const bad = { ...base.headers, 'x-amz-content-sha256': 'nonsense' };
  throwsS3(t, () => verify({ ...base, headers: bad }), 'InvalidArgument');
});

test('unsigned host or x-amz-* header is refused', (t) => {
  const base = docGetObject();
  const extra = { ...base.headers, 'x-amz-acl': 'public-read' };
  const err = throwsS3(t, () => verify({ ...base, headers: extra }), 'AccessDenied');
  t.is(err.fields.HeadersNotSigned, 'x-amz-acl');
  const noHost = {
    ...base.headers,
    authorization: authHeader('range;x-amz-content-sha256;x-amz-date', '0'.repeat(64)),
  };
  throwsS3(t, () => verify({ ...base, headers: noHost }), 'AccessDenied');
});

test('missing date is AccessDenied', (t) => {
  const base = docGetObject();
  const headers = { ...base.headers };
  delete headers['x-amz-date'];
  throwsS3(
    t,
    () => verify({ ...base, headers }),
    'AccessDenied',
    'AWS authentication requires a valid Date or x-amz-date header',
  );
});

test('an impossible x-amz-date is AccessDenied, not rolled into another date', (t) => {
  const base = docGetObject();
  // 31 February, hour 24, minute 60, second 60, year 13 (Date.UTC would take 1913).
  for (const date of [
    '20130231T000000Z',
    '20130524T240000Z',
    '20130524T006000Z',
    '20130524T000060Z',
    '00130524T000000Z',
  ]) {
    throwsS3(
      t,
      () => verify({ ...base, headers: { ...base.headers, 'x-amz-date': date } }),
      'AccessDenied',
      'AWS authentication requires a valid Date or x-amz-date header',
    );
  }
});

// ---------------------------------------------------------------------------------------------
// Canonical form

test('canonical URI re-encodes consistently and never normalizes', (t) => {
  t.is(canonicalUri('/test$file.text'), '/test%24file.text');
  t.is(canonicalUri('/a%2fb/%7e/c%20d+e'), '/a%2Fb/~/c%20d%2Be');
  t.is(canonicalUri('/a/./b//c/../'), '/a/./b//c/../');
  t.is(canonicalUri('/bad%zz%4'), '/bad%25zz%254');
  t.is(canonicalUri('/%C3%BC/ü'), '/%C3%BC/%C3%BC');
  t.is(canonicalUri(''), '/');
  // Escapes already in UriEncode's form are kept; others are normalized.
  t.is(canonicalUri('/a%2Fb%20c/%41%2f%7e'), '/a%2Fb%20c/A%2F~');
});

test('canonical query decodes, re-encodes and sorts by name then value', (t) => {
  t.is(canonicalQueryString('b=2&a=3&a=1&c'), 'a=1&a=3&b=2&c=');
  t.is(canonicalQueryString('prefix=a%2fb+c&x=%7E'), 'prefix=a%2Fb%20c&x=~');
  t.is(canonicalQueryString('X-Amz-Signature=abc&X-Amz-Date=1', 'X-Amz-Signature'), 'X-Amz-Date=1');
  t.is(
    canonicalQueryString('X-Amz-Credential=AK%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&a=%2'),
    'X-Amz-Credential=AK%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&a=%252',
  );
});

// ---------------------------------------------------------------------------------------------
// aws-chunked: "Signature Calculations ... Transferring Payload in Multiple Chunks" example.

const STREAM_SEED = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
const STREAM_SIGS = [
  'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
  '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
  'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
] as const;
const STREAM_DATA = Buffer.alloc(66560, 'a');

function streamingRequest(): RequestSnapshot {
  return snapshot('PUT', '/examplebucket/chunkObject.txt', {
    host: 's3.amazonaws.com',
    'x-amz-date': DOC_DATE,
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
    'content-length': '66824',
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    authorization: `AWS4-HMAC-SHA256 Credential=${AKID}/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=${STREAM_SEED}`,
  });
}

function chunkedBody(sigs: readonly string[], tail = '\r\n'): Buffer {
  return Buffer.concat([
    Buffer.from(`10000;chunk-signature=${sigs[0]}\r\n`),
    STREAM_DATA.subarray(0, 65536),
    Buffer.from(`\r\n400;chunk-signature=${sigs[1]}\r\n`),
    STREAM_DATA.subarray(65536),
    Buffer.from(`\r\n0;chunk-signature=${sigs[2]}\r\n${tail}`),
  ]);
}

interface Decoded {
  data: Buffer;
  trailers: Record<string, string>;
  decodedBytes: number;
}

/** Decodes body fed in pieces of the given sizes (cycled); copies what onData hands out. */
function decode(
  body: Uint8Array,
  opts: Omit<ChunkedDecoderOptions, 'onData'>,
  pieceSizes: readonly number[] = [body.length],
): Decoded {
  const out: Buffer[] = [];
  const decoder = new AwsChunkedDecoder({ ...opts, onData: (b) => out.push(Buffer.from(b)) });
  let pos = 0;
  for (let i = 0; pos < body.length; i++) {
    const size = Math.max(1, pieceSizes[i % pieceSizes.length] ?? 1);
    decoder.push(body.subarray(pos, pos + size));
    pos += size;
  }
  const trailers = decoder.finish();
  return { data: Buffer.concat(out), trailers, decodedBytes: decoder.decodedBytes };
}

test('AWS streaming example: seed signature verifies and the chunk chain decodes', (t) => {
  const result = verify(streamingRequest());
  t.deepEqual(result?.payload, { kind: 'streaming-signed', trailer: false });
  const signing = result?.chunkSigning;
  if (signing === undefined) return t.fail('no chunk signing context');
  t.is(signing.seedSignature, STREAM_SEED);
  t.is(signing.scope, '20130524/us-east-1/s3/aws4_request');
  const body = chunkedBody(STREAM_SIGS);
  t.is(body.length, 66824);
  const decoded = decode(body, { signing, trailer: false });
  t.true(decoded.data.equals(STREAM_DATA));
  t.is(decoded.decodedBytes, 66560);
  t.deepEqual(decoded.trailers, {});
});

/** Deterministic PRNG so that a failing split can be reproduced. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

test('any split of the body decodes identically (1-byte and random pushes)', (t) => {
  const signing = verify(streamingRequest())?.chunkSigning;
  if (signing === undefined) return t.fail('no chunk signing context');
  const body = chunkedBody(STREAM_SIGS);
  const oneByte = decode(body, { signing, trailer: false }, [1]);
  t.true(oneByte.data.equals(STREAM_DATA));
  const random = mulberry32(42);
  for (let round = 0; round < 20; round++) {
    const sizes = Array.from({ length: 50 }, () => 1 + Math.floor(random() * 200 * (round + 1)));
    const decoded = decode(body, { signing, trailer: false }, sizes);
    t.true(decoded.data.equals(STREAM_DATA), `round ${round}`);
  }
});

test('tampered chunk signature, data or chain order is SignatureDoesNotMatch', (t) => {
  const signing = verify(streamingRequest())?.chunkSigning;
  if (signing === undefined) return t.fail('no chunk signing context');
  const swapped = [STREAM_SIGS[1], STREAM_SIGS[0], STREAM_SIGS[2]];
  throwsS3(
    t,
    () => decode(chunkedBody(swapped), { signing, trailer: false }),
    'SignatureDoesNotMatch',
  );
  const lastBad = [STREAM_SIGS[0], STREAM_SIGS[1], 'f'.repeat(64)];
  throwsS3(
    t,
    () => decode(chunkedBody(lastBad), { signing, trailer: false }),
    'SignatureDoesNotMatch',
  );
  const body = chunkedBody(STREAM_SIGS);
  body[200] = 'b'.charCodeAt(0);
  throwsS3(t, () => decode(body, { signing, trailer: false }, [7]), 'SignatureDoesNotMatch');
  const otherSeed = { ...signing, seedSignature: STREAM_SIGS[2] };
  throwsS3(
    t,
    () => decode(chunkedBody(STREAM_SIGS), { signing: otherSeed, trailer: false }),
    'SignatureDoesNotMatch',
  );
});

test('a failed decoder stays failed', (t) => {
  const decoder = new AwsChunkedDecoder({ trailer: false, onData: () => {} });
  throwsS3(t, () => decoder.push(Buffer.from('zz\r\n')), 'IncompleteBody');
  throwsS3(t, () => decoder.push(Buffer.from('0\r\n\r\n')), 'IncompleteBody');
  throwsS3(t, () => decoder.finish(), 'IncompleteBody');
});

// "Signature calculations for trailing headers" (sigv4-streaming-trailers) example chain.
const TRAILER_SEED = '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e';
const TRAILER_SIGS = [
  'b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2',
  '1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7',
  '2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992',
] as const;
const TRAILER_SIGNATURE = 'd81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435';

function docSigning(seedSignature: string): ChunkSigningContext {
  return {
    signingKey: deriveSigningKey(SECRET, '20130524', 'us-east-1', 's3'),
    amzDate: DOC_DATE,
    scope: credentialScope('20130524', 'us-east-1', 's3'),
    seedSignature,
  };
}

test('AWS signed-trailer example: chunks and trailer signature verify', (t) => {
  const signing = docSigning(TRAILER_SEED);
  const tail = `x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:${TRAILER_SIGNATURE}\r\n\r\n`;
  for (const sizes of [[1], [13, 4096, 3], [1 << 20]]) {
    const decoded = decode(chunkedBody(TRAILER_SIGS, tail), { signing, trailer: true }, sizes);
    t.true(decoded.data.equals(STREAM_DATA));
    t.deepEqual(decoded.trailers, { 'x-amz-checksum-crc32c': 'sOO8/Q==' });
  }
  // Some clients end the checksum line with LF before the CRLF.
  const lfVariant = tail.replace('==\r\n', '==\n\r\n');
  const decoded = decode(chunkedBody(TRAILER_SIGS, lfVariant), { signing, trailer: true }, [5]);
  t.deepEqual(decoded.trailers, { 'x-amz-checksum-crc32c': 'sOO8/Q==' });
  const badValue = tail.replace('sOO8/Q==', 'AAAAAA==');
  throwsS3(
    t,
    () => decode(chunkedBody(TRAILER_SIGS, badValue), { signing, trailer: true }),
    'SignatureDoesNotMatch',
  );
  const noSig = 'x-amz-checksum-crc32c:sOO8/Q==\r\n\r\n';
  throwsS3(
    t,
    () => decode(chunkedBody(TRAILER_SIGS, noSig), { signing, trailer: true }),
    'SignatureDoesNotMatch',
  );
});

test('unsigned trailer body as the AWS SDK writes it', (t) => {
  const body = Buffer.from('5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n');
  for (const sizes of [[1], [2, 3], [100]]) {
    const decoded = decode(body, { trailer: true }, sizes);
    t.is(decoded.data.toString(), 'hello');
    t.deepEqual(decoded.trailers, { 'x-amz-checksum-crc32': 'NhCmhg==' });
  }
  t.is(decode(Buffer.from('0\r\n\r\n'), { trailer: true }).decodedBytes, 0);
});

test('framing faults: truncation, bad size, bad CRLF, small middle chunk, huge chunk', (t) => {
  const body = chunkedBody(STREAM_SIGS);
  const signing = verify(streamingRequest())?.chunkSigning;
  if (signing === undefined) return t.fail('no chunk signing context');
  throwsS3(
    t,
    () => decode(body.subarray(0, body.length - 1), { signing, trailer: false }),
    'IncompleteBody',
  );
  throwsS3(t, () => decode(body.subarray(0, 60000), { signing, trailer: false }), 'IncompleteBody');
  throwsS3(t, () => decode(Buffer.from('x\r\n'), { trailer: false }), 'IncompleteBody');
  throwsS3(
    t,
    () => decode(Buffer.from('3\r\nabcX\n0\r\n\r\n'), { trailer: false }),
    'IncompleteBody',
  );
  throwsS3(t, () => decode(Buffer.from('0\r\n\r\nextra'), { trailer: false }), 'IncompleteBody');
  throwsS3(t, () => decode(Buffer.from('0\r\nx:y\r\n\r\n'), { trailer: false }), 'IncompleteBody');
  throwsS3(
    t,
    () => decode(Buffer.from('1\r\na\r\n0\r\nnocolon\r\n\r\n'), { trailer: true }),
    'MalformedTrailerError',
  );
  // Unsigned chunks must still carry no signature ext when signing is required.
  throwsS3(
    t,
    () => decode(Buffer.from('0\r\n\r\n'), { signing, trailer: false }),
    'IncompleteBody',
  );
  const small = Buffer.from('3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n');
  const err = throwsS3(t, () => decode(small, { trailer: false }), 'InvalidChunkSizeError');
  t.deepEqual(err.fields, { Chunk: '2', BadChunkSize: '3' });
  t.is(decode(small, { trailer: false, minChunkBytes: 0 }).data.toString(), 'abcdef');
  throwsS3(t, () => decode(Buffer.from('1000001\r\n'), { trailer: false }), 'InvalidRequest');
});

// ---------------------------------------------------------------------------------------------
// Cross-check against a real signer: @smithy/signature-v4, as used by @aws-sdk/client-s3.

class NodeSha256 implements Checksum {
  readonly #secret: SourceData | undefined;
  #hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#hash = this.#fresh();
  }

  #fresh(): Hash | Hmac {
    const secret = this.#secret;
    if (secret === undefined) return createHash('sha256');
    const key =
      typeof secret === 'string'
        ? secret
        : ArrayBuffer.isView(secret)
          ? new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength)
          : new Uint8Array(secret);
    return createHmac('sha256', key);
  }

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
  }

  async digest(): Promise<Uint8Array> {
    return this.#hash.digest();
  }

  reset(): void {
    this.#hash = this.#fresh();
  }
}

const SDK_NOW = new Date('2024-03-01T12:34:56Z');
const SDK_OPTS: VerifyOptions = { region: 'eu-central-1', nowMs: SDK_NOW.getTime() + 5000 };

function sdkSigner(uriEscapePath = false): SignatureV4 {
  return new SignatureV4({
    service: 's3',
    region: 'eu-central-1',
    credentials: { accessKeyId: AKID, secretAccessKey: SECRET },
    sha256: NodeSha256,
    uriEscapePath,
  });
}

/** The S3 client's escaping of keys and query values (RFC 3986 unreserved kept). */
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function sdkRequest(
  method: string,
  path: string,
  query: Record<string, string>,
  headers: Record<string, string>,
  body?: string,
): HttpRequest {
  return {
    method,
    protocol: 'https:',
    hostname: 'hangar.local',
    path,
    query,
    headers: { host: 'hangar.local:9000', ...headers },
    ...(body === undefined ? {} : { body }),
  } as HttpRequest;
}

/** What the server will see once the SDK's request crosses the wire. */
function onTheWire(req: HttpRequest): RequestSnapshot {
  const rawQuery = Object.entries(req.query ?? {})
    .map(([k, v]) => `${escapeUri(k)}=${escapeUri(String(v))}`)
    .join('&');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name.toLowerCase()] = value;
  return { method: req.method, rawPath: req.path, rawQuery, headers };
}

test('cross-check: requests signed by @smithy/signature-v4 verify', async (t) => {
  const key = 'photos/2024 summer/ümlaut+plus&(x)!~*.jpg';
  const path = `/bucket/${key.split('/').map(escapeUri).join('/')}`;
  const body = 'hello hangar';
  const put = await sdkSigner().sign(
    sdkRequest(
      'PUT',
      path,
      { 'x-id': 'PutObject' },
      {
        'content-type': 'text/plain',
        'x-amz-meta-note': '  spaced   out  value ',
      },
      body,
    ),
    { signingDate: SDK_NOW },
  );
  const putResult = verifyRequest(onTheWire(put), lookup, SDK_OPTS);
  t.deepEqual(putResult?.payload, {
    kind: 'sha256',
    hex: createHash('sha256').update(body).digest('hex'),
  });

  const list = await sdkSigner().sign(
    sdkRequest(
      'GET',
      '/bucket',
      {
        'list-type': '2',
        prefix: 'a b/c+d=e&f',
        delimiter: '/',
        'continuation-token': 'x/y==',
      },
      {},
    ),
    { signingDate: SDK_NOW },
  );
  t.is(verifyRequest(onTheWire(list), lookup, SDK_OPTS)?.accessKeyId, AKID);

  // With uriEscapePath the signer escapes a raw '$' in the path the same way S3 does.
  const raw = await sdkSigner(true).sign(sdkRequest('GET', '/bucket/a$b', {}, {}), {
    signingDate: SDK_NOW,
  });
  t.is(verifyRequest(onTheWire(raw), lookup, SDK_OPTS)?.accessKeyId, AKID);

  const wrongRegion = { ...SDK_OPTS, region: 'us-east-1' };
  throwsS3(
    t,
    () => verifyRequest(onTheWire(list), lookup, wrongRegion),
    'AuthorizationHeaderMalformed',
  );
});

test('cross-check: URLs presigned by @smithy/signature-v4 verify', async (t) => {
  const path = `/bucket/${escapeUri('reports/q1 (final).pdf').replace(/%2F/g, '/')}`;
  // As @aws-sdk/s3-request-presigner does: declare the body unsigned; the signer hoists that
  // x-amz-* header into the (signed) query.
  const presigned = await sdkSigner().presign(
    sdkRequest(
      'GET',
      path,
      { 'response-content-disposition': 'attachment; filename="a b.pdf"' },
      { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    ),
    { signingDate: SDK_NOW, expiresIn: 3600 },
  );
  const wire = onTheWire(presigned);
  t.true(wire.rawQuery.includes('X-Amz-Signature='));
  t.true(wire.rawQuery.includes('x-amz-content-sha256=UNSIGNED-PAYLOAD'));
  t.is(wire.headers['x-amz-content-sha256'], undefined);
  t.deepEqual(verifyRequest(wire, lookup, SDK_OPTS), {
    accessKeyId: AKID,
    payload: { kind: 'unsigned' },
  });
  const expired = { ...SDK_OPTS, nowMs: SDK_NOW.getTime() + 3601_000 };
  throwsS3(t, () => verifyRequest(wire, lookup, expired), 'AccessDenied', 'Request has expired');
  throwsS3(t, () => verifyRequest(wire, () => 'other', SDK_OPTS), 'SignatureDoesNotMatch');
});

test('cross-check: our chunk signer agrees with the AWS chain on a fresh streaming upload', (t) => {
  // Sign a streaming request by hand through the shared primitives, then verify end to end.
  const signing = docSigning(TRAILER_SEED);
  let previous = signing.seedSignature;
  const pieces: Buffer[] = [];
  const data = Buffer.alloc(20000, 7);
  for (const chunk of [data.subarray(0, 12000), data.subarray(12000), Buffer.alloc(0)]) {
    const toSign = [
      'AWS4-HMAC-SHA256-PAYLOAD',
      signing.amzDate,
      signing.scope,
      previous,
      EMPTY_SHA256,
      createHash('sha256').update(chunk).digest('hex'),
    ].join('\n');
    previous = signHex(signing.signingKey, toSign);
    pieces.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`), chunk);
    pieces.push(Buffer.from('\r\n'));
  }
  const decoded = decode(Buffer.concat(pieces), { signing, trailer: false }, [333]);
  t.true(decoded.data.equals(data));
});
