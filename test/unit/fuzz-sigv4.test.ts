/**
 * Property tests of the SigV4 canonicaliser and verifier (http/sigv4/canonical.ts, verify.ts):
 * the canonical forms never throw, are idempotent and agree with AWS's UriEncode; requests signed
 * by AWS's own signer (smithy) verify, and the same requests with a changed signed part do not;
 * random and mutated auth material only ever yields null, a result or an S3Error.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, HttpRequest, SourceData } from '@smithy/types';
import test from 'ava';
import fc from 'fast-check';
import { S3Error } from '../../http/s3/errors.js';
import {
  canonicalHeaders,
  canonicalQueryString,
  canonicalUri,
  percentDecodeBytes,
} from '../../http/sigv4/canonical.js';
import { type VerifyOptions, verifyRequest } from '../../http/sigv4/verify.js';
import type { RequestSnapshot } from '../../http/uws/request.js';
import { check, checkAsync, mutatedText, onlyS3Error, tokenSoup } from '../helpers/fuzz-props.js';

const AKID = 'AKIAFUZZEXAMPLE';
const SECRET = 'fuzz/secret+key/0123456789abcdef';
const REGION = 'us-east-1';
const NOW = new Date('2026-01-01T12:00:00Z');
// V2 accepted: random 'AWS ...' headers and AWSAccessKeyId/Signature parameters reach v2.ts too.
const OPTS: VerifyOptions = {
  region: REGION,
  nowMs: NOW.getTime(),
  signatureV2: { rootDomains: ['s3.amazonaws.com'] },
};
const lookup = (accessKeyId: string): string | undefined =>
  accessKeyId === AKID ? SECRET : undefined;

/** Any UTF-16 text, lone surrogates included (what a JS string can hold). */
const anyText = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({
    unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    maxLength,
  });

/** The text of a URL path or query as it may arrive: %-escapes (good and broken), '+', '&', '='. */
const urlishText = tokenSoup([
  '%',
  '%2',
  '%2F',
  '%zz',
  '%C3%A9',
  '%ff',
  '%00',
  '+',
  '&',
  '=',
  '/',
  '~',
  ' ',
  'é',
  '\u{1F600}',
  'a',
  'Z',
]);

/** AWS's UriEncode of a string's UTF-8 (what the S3 client sends; RFC 3986 unreserved kept). */
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

test('the canonical URI and query never throw and are idempotent', (t) => {
  check(
    fc.property(fc.oneof(anyText(64), urlishText), (text) => {
      const uri = canonicalUri(text);
      const query = canonicalQueryString(text);
      canonicalHeaders({ h: text }, ['h']);
      percentDecodeBytes(text, true);
      return canonicalUri(uri) === uri && canonicalQueryString(query) === query;
    }),
    1500,
  );
  t.pass();
});

test("the canonical URI of an S3 client's path is AWS's UriEncode of each segment", (t) => {
  const wellFormed = fc.string({ unit: 'grapheme', maxLength: 32 });
  check(
    fc.property(fc.array(wellFormed, { minLength: 1, maxLength: 4 }), (segments) => {
      // A client may escape more than UriEncode (e.g. '~' or letters); the canonical form is one.
      const sent = `/${segments.map((s) => encodeURIComponent(s)).join('/')}`;
      return canonicalUri(sent) === `/${segments.map(escapeUri).join('/')}`;
    }),
    800,
  );
  t.pass();
});

// ---------------------------------------------------------------------------------------------
// The verifier

class NodeSha256 implements Checksum {
  #hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.#hash = this.#fresh();
  }
  #fresh(): Hash | Hmac {
    return this.secret === undefined
      ? createHash('sha256')
      : createHmac('sha256', Buffer.from(this.secret as string | Uint8Array));
  }
  update(data: Uint8Array): void {
    this.#hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return this.#hash.digest();
  }
  reset(): void {
    this.#hash = this.#fresh();
  }
}

const signer = new SignatureV4({
  service: 's3',
  region: REGION,
  credentials: { accessKeyId: AKID, secretAccessKey: SECRET },
  sha256: NodeSha256,
  uriEscapePath: false,
});

/** Header values a client can sign: printable ASCII with single inner spaces (see below). */
const headerValue = fc
  .stringMatching(/^[!-~]([ !-~]{0,30}[!-~])?$/)
  .map((v) => v.replace(/ {2,}/g, ' '));

interface SignableRequest {
  method: string;
  segments: string[];
  query: Record<string, string>;
  meta: Record<string, string>;
}

const signableArb: fc.Arbitrary<SignableRequest> = fc.record({
  method: fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'HEAD'),
  segments: fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), {
    minLength: 1,
    maxLength: 3,
  }),
  query: fc.dictionary(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
    fc.string({ unit: 'grapheme', maxLength: 8 }),
    {
      maxKeys: 3,
    },
  ),
  meta: fc.dictionary(fc.stringMatching(/^[a-z0-9]{1,8}$/), headerValue, { maxKeys: 3 }),
});

/** Builds headers exactly as http/server.ts's snapshotOf does (repeats joined with ","). */
function headersAsServerSees(
  entries: ReadonlyArray<readonly [string, string]>,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [rawName, value] of entries) {
    const name = rawName.toLowerCase();
    const previous = headers[name];
    headers[name] = previous === undefined ? value : `${previous},${value}`;
  }
  return headers;
}

/** Signs `request` with smithy and returns what the server receives. */
async function signedSnapshot(request: SignableRequest): Promise<RequestSnapshot> {
  const path = `/${request.segments.map(escapeUri).join('/')}`;
  const headers: Record<string, string> = {
    host: 'hangar.local:9000',
    'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
  };
  for (const [name, value] of Object.entries(request.meta)) headers[`x-amz-meta-${name}`] = value;
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: 'hangar.local',
      path,
      query: request.query,
      headers,
    } as HttpRequest,
    { signingDate: NOW },
  );
  const rawQuery = Object.entries(request.query)
    .map(([name, value]) => `${escapeUri(name)}=${escapeUri(value)}`)
    .join('&');
  return {
    method: request.method,
    rawPath: path,
    rawQuery,
    headers: headersAsServerSees(Object.entries(signed.headers)),
  };
}

test('requests signed by AWS’s signer verify', async (t) => {
  await checkAsync(
    fc.asyncProperty(signableArb, async (request) => {
      const result = verifyRequest(await signedSnapshot(request), lookup, OPTS);
      return result?.accessKeyId === AKID;
    }),
    200,
  );
  t.pass();
});

/** A change to one signed part of a request that changes what it means. */
type Tamper = (req: RequestSnapshot) => RequestSnapshot | undefined;

const TAMPERS: Record<string, Tamper> = {
  method: (req) => ({ ...req, method: req.method === 'GET' ? 'PUT' : 'GET' }),
  path: (req) => ({ ...req, rawPath: `${req.rawPath}x` }),
  query: (req) => ({ ...req, rawQuery: req.rawQuery === '' ? 'acl' : `${req.rawQuery}x` }),
  header: (req) => {
    const name = Object.keys(req.headers).find((n) => n.startsWith('x-amz-meta-'));
    if (name === undefined) return undefined;
    return { ...req, headers: { ...req.headers, [name]: `${req.headers[name]}x` } };
  },
  date: (req) => ({ ...req, headers: { ...req.headers, 'x-amz-date': '20260101T120001Z' } }),
  signature: (req) => {
    const auth = req.headers['authorization'] ?? '';
    const flipped = auth.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    return { ...req, headers: { ...req.headers, authorization: flipped } };
  },
};

test('a signed request changed in any signed part does not verify', async (t) => {
  await checkAsync(
    fc.asyncProperty(
      signableArb,
      fc.constantFrom(...Object.keys(TAMPERS)),
      async (request, how) => {
        const tampered = TAMPERS[how]?.(await signedSnapshot(request));
        if (tampered === undefined) return true;
        const error = onlyS3Error(() => verifyRequest(tampered, lookup, OPTS));
        return error?.code === 'SignatureDoesNotMatch';
      },
    ),
    200,
  );
  t.pass();
});

/**
 * Names an attacker may put in SignedHeaders or send as headers, Object.prototype's members
 * included (issue 11 row 12: `SignedHeaders=__proto__` used to answer 500).
 */
const HEADER_NAMES = [
  'host',
  'x-amz-date',
  'x-amz-content-sha256',
  'authorization',
  'content-md5',
  'x-amz-meta-a',
  'date',
  'range',
];
const OBJECT_PROTOTYPE_NAMES = [
  '__proto__',
  'constructor',
  'tostring',
  'valueof',
  'hasownproperty',
];

const signedHeadersArb = fc
  .array(
    fc.oneof(
      fc.constantFrom(...HEADER_NAMES),
      fc.constantFrom(...OBJECT_PROTOTYPE_NAMES),
      fc.string({ maxLength: 6 }),
    ),
    {
      maxLength: 5,
    },
  )
  .map((names) => names.join(';'));

/** An Authorization header assembled from parts that are each valid, nearly valid or junk. */
const structuredAuthorization = fc
  .record({
    algorithm: fc.oneof(
      { weight: 6, arbitrary: fc.constant('AWS4-HMAC-SHA256 ') },
      fc.constantFrom('AWS4-HMAC-SHA256', 'AWS ', 'AWS4-ECDSA-P256-SHA256 ', ''),
    ),
    credential: fc.oneof(
      { weight: 4, arbitrary: fc.constant(`${AKID}/20260101/${REGION}/s3/aws4_request`) },
      mutatedText(fc.constant(`${AKID}/20260101/${REGION}/s3/aws4_request`), 2),
      fc.constantFrom(
        `nobody/20260101/${REGION}/s3/aws4_request`,
        `${AKID}/20260101/eu-west-1/s3/aws4_request`,
        '',
      ),
    ),
    signedHeaders: fc.oneof(
      fc.constant('host;x-amz-content-sha256;x-amz-date'),
      signedHeadersArb.map((names) => `host;x-amz-content-sha256;x-amz-date;${names}`),
      signedHeadersArb,
    ),
    signature: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), fc.string({ maxLength: 70 })),
    separator: fc.constantFrom(', ', ',', ' , ', ',,'),
    order: fc.boolean(),
  })
  .map(({ algorithm, credential, signedHeaders, signature, separator, order }) => {
    const parts = [
      `Credential=${credential}`,
      `SignedHeaders=${signedHeaders}`,
      `Signature=${signature}`,
    ];
    if (order) parts.reverse();
    return `${algorithm}${parts.join(separator)}`;
  });

const authorizationSoup = tokenSoup([
  'AWS4-HMAC-SHA256 ',
  'Credential=',
  `${AKID}/20260101/${REGION}/s3/aws4_request`,
  ', ',
  'SignedHeaders=',
  'Signature=',
  ...HEADER_NAMES,
  '=',
]);

/** Presigned-URL parameters, each valid, nearly valid or junk. */
const structuredPresigned = fc
  .record({
    algorithm: fc.constantFrom('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1', ''),
    credential: fc.oneof(
      fc.constant(`${AKID}%2F20260101%2F${REGION}%2Fs3%2Faws4_request`),
      mutatedText(fc.constant(`${AKID}/20260101/${REGION}/s3/aws4_request`), 2).map(
        encodeURIComponent,
      ),
    ),
    date: amzDateArbLazy(),
    expires: fc.constantFrom('3600', '0', '604800', '604801', '-1', '1e3', ''),
    signedHeaders: fc.oneof(fc.constant('host'), signedHeadersArb.map(encodeURIComponent)),
    signature: fc.oneof(
      fc.stringMatching(/^[0-9a-f]{64}$/),
      fc.string({ maxLength: 10 }).map(encodeURIComponent),
    ),
    drop: fc.integer({ min: 0, max: 24 }),
  })
  .map(({ algorithm, credential, date, expires, signedHeaders, signature, drop }) => {
    const params = [
      `X-Amz-Algorithm=${algorithm}`,
      `X-Amz-Credential=${credential}`,
      `X-Amz-Date=${encodeURIComponent(date)}`,
      `X-Amz-Expires=${expires}`,
      `X-Amz-SignedHeaders=${signedHeaders}`,
      `X-Amz-Signature=${signature}`,
    ];
    // Leave one out now and then (drop >= 6 keeps them all).
    return params.filter((_, i) => i !== drop).join('&');
  });

function amzDateArbLazy(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant('20260101T120000Z') },
    fc.constantFrom(
      '20260101T000000Z',
      '20261301T000000Z',
      '20260230T120000Z',
      '20250101T120000Z',
      '',
    ),
    fc.string({ maxLength: 20 }),
  );
}

const amzDateArb = amzDateArbLazy();
const contentShaArb = fc.oneof(
  fc.constantFrom(
    'UNSIGNED-PAYLOAD',
    'UNSIGNED-PAYLOAD',
    'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
    'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD',
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  ),
  fc.string({ maxLength: 70 }),
);

const presignedQuerySoup = tokenSoup([
  'X-Amz-Algorithm=AWS4-HMAC-SHA256',
  `X-Amz-Credential=${AKID}%2F20260101%2F${REGION}%2Fs3%2Faws4_request`,
  'X-Amz-Date=20260101T120000Z',
  'X-Amz-Expires=',
  '604801',
  '0',
  '3600',
  'X-Amz-SignedHeaders=host',
  'X-Amz-Signature=',
  'AWSAccessKeyId=a&Signature=b',
  `AWSAccessKeyId=${AKID}`,
  'Expires=',
  '1767268800',
  'Signature=',
  'x-amz-content-sha256=',
  '&',
  '%',
  '%2F',
  '+',
]);

const authModeArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant('header' as const) },
  { weight: 4, arbitrary: fc.constant('presigned' as const) },
  fc.constantFrom('both' as const, 'none' as const),
);

const snapshotArb: fc.Arbitrary<RequestSnapshot> = fc
  .record({
    mode: authModeArb,
    method: fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'OPTIONS', 'get', ''),
    rawPath: fc.oneof(
      urlishText.map((p) => `/${p}`),
      fc.constant('/b/k'),
    ),
    presigned: fc.oneof(
      { weight: 4, arbitrary: structuredPresigned },
      mutatedText(structuredPresigned),
      presignedQuerySoup,
    ),
    otherQuery: fc.oneof(urlishText, fc.constant('')),
    authorization: fc.oneof(
      { weight: 4, arbitrary: structuredAuthorization },
      mutatedText(structuredAuthorization),
      authorizationSoup,
    ),
    amzDate: fc.option(amzDateArb, { nil: undefined, freq: 8 }),
    contentSha: fc.option(contentShaArb, { nil: undefined, freq: 8 }),
    extra: fc.array(
      fc.tuple(
        fc.constantFrom(...HEADER_NAMES, ...OBJECT_PROTOTYPE_NAMES),
        fc.string({ maxLength: 12 }),
      ),
      {
        maxLength: 3,
      },
    ),
  })
  .map(
    ({
      mode,
      method,
      rawPath,
      presigned,
      otherQuery,
      authorization,
      amzDate,
      contentSha,
      extra,
    }) => {
      const entries: Array<[string, string]> = [['host', 'hangar.local:9000'], ...extra];
      if (mode === 'header' || mode === 'both') entries.push(['authorization', authorization]);
      if (amzDate !== undefined) entries.push(['x-amz-date', amzDate]);
      if (contentSha !== undefined) entries.push(['x-amz-content-sha256', contentSha]);
      const query = [mode === 'presigned' || mode === 'both' ? presigned : '', otherQuery];
      return {
        method,
        rawPath,
        rawQuery: query.filter((q) => q !== '').join('&'),
        headers: headersAsServerSees(entries),
      };
    },
  );

test('random and mutated auth material yields null, a result or an S3Error, nothing else', (t) => {
  check(
    fc.property(snapshotArb, (req) => {
      onlyS3Error(() => verifyRequest(req, lookup, OPTS));
    }),
    2500,
  );
  t.pass();
});

test('a verified request is one whose auth the fuzzer could not have forged', (t) => {
  // Without the secret, no random header should ever verify: a result means anonymous (null).
  check(
    fc.property(snapshotArb, (req) => {
      let result: unknown = null;
      onlyS3Error(() => {
        result = verifyRequest(req, lookup, OPTS);
      });
      return result === null;
    }),
    1000,
  );
  t.pass();
});

test('an S3Error from the verifier always carries a known code and status', (t) => {
  check(
    fc.property(snapshotArb, (req) => {
      const error = onlyS3Error(() => verifyRequest(req, lookup, OPTS));
      return (
        error === undefined ||
        (error instanceof S3Error && error.status >= 400 && error.status < 600)
      );
    }),
    500,
  );
  t.pass();
});
