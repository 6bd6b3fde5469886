/**
 * Property tests of the aws-chunked decoder (http/sigv4/chunked.ts): any split of a valid stream
 * decodes to the same bytes and trailers; random and mutated streams only ever fail with an
 * S3Error; a signed stream that decodes at all decodes to exactly what was signed.
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import fc from 'fast-check';
import type { ChunkSigningContext } from '../../http/sigv4/canonical.js';
import { AwsChunkedDecoder } from '../../http/sigv4/chunked.js';
import { type ChunkSigner, encodeChunked, signingKey } from '../helpers/chunk-signer.js';
import { check, cutsOf, mutatedBytes, onlyS3Error, splitAt } from '../helpers/fuzz-props.js';

const AMZ_DATE = '20260101T000000Z';
const SCOPE = '20260101/us-east-1/s3/aws4_request';
const KEY = signingKey('fuzz-secret', '20260101', 'us-east-1');
const SEED_SIGNATURE = randomBytes(32).toString('hex');
const SIGNING: ChunkSigningContext = {
  signingKey: KEY,
  amzDate: AMZ_DATE,
  scope: SCOPE,
  seedSignature: SEED_SIGNATURE,
};

/** A stream as a client writes it, with what it must decode to. */
interface Stream {
  encoded: Buffer;
  data: Buffer;
  signed: boolean;
  trailer: [string, string] | undefined;
}

const trailerArb = fc.option(
  fc.tuple(
    fc.constantFrom('x-amz-checksum-crc32', 'x-amz-checksum-sha256', 'x-amz-checksum-crc64nvme'),
    fc.stringMatching(/^[A-Za-z0-9+/=]{1,44}$/),
  ),
  { nil: undefined },
);

/** Small chunks (the decoder is built with minChunkBytes 0) keep each case cheap. */
const streamArb: fc.Arbitrary<Stream> = fc
  .record({
    data: fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.from(bytes)),
    chunkBytes: fc.integer({ min: 1, max: 300 }),
    signed: fc.boolean(),
    trailer: trailerArb,
  })
  .map(({ data, chunkBytes, signed, trailer }) => {
    const signer: ChunkSigner | null = signed
      ? { key: KEY, amzDate: AMZ_DATE, scope: SCOPE, previous: SEED_SIGNATURE }
      : null;
    return { encoded: encodeChunked(data, chunkBytes, signer, trailer), data, signed, trailer };
  });

interface Decoded {
  data: Buffer;
  trailers: Record<string, string>;
}

/** Pushes `pieces` then finishes; throws what the decoder throws. */
function decode(pieces: readonly Buffer[], signed: boolean, trailer: boolean): Decoded {
  const out: Buffer[] = [];
  const decoder = new AwsChunkedDecoder({
    ...(signed ? { signing: SIGNING } : {}),
    trailer,
    minChunkBytes: 0,
    onData: (view) => out.push(Buffer.from(view)),
  });
  for (const piece of pieces) {
    decoder.push(piece);
    piece.fill(0xee); // the decoder must not keep views of what it was given
  }
  const trailers = decoder.finish();
  return { data: Buffer.concat(out), trailers };
}

function expectedTrailers(stream: Stream): Record<string, string> {
  return stream.trailer === undefined ? {} : { [stream.trailer[0]]: stream.trailer[1] };
}

test('any split of a valid stream decodes to the same bytes and trailers', (t) => {
  check(
    fc.property(
      streamArb.chain((stream) => fc.tuple(fc.constant(stream), cutsOf(stream.encoded.length))),
      ([stream, cuts]) => {
        const decoded = decode(
          splitAt(stream.encoded, cuts),
          stream.signed,
          stream.trailer !== undefined,
        );
        return (
          decoded.data.equals(stream.data) &&
          JSON.stringify(decoded.trailers) === JSON.stringify(expectedTrailers(stream))
        );
      },
    ),
    300,
  );
  t.pass();
});

test('mutated streams fail only with an S3Error, and a signed one never decodes to other bytes', (t) => {
  const caseArb = streamArb.chain((stream) =>
    fc.tuple(
      fc.constant(stream),
      mutatedBytes(fc.constant(stream.encoded)).chain((mutated) =>
        fc.tuple(fc.constant(mutated), cutsOf(mutated.length)),
      ),
    ),
  );
  check(
    fc.property(caseArb, ([stream, [mutated, cuts]]) => {
      let decoded: Decoded | undefined;
      onlyS3Error(() => {
        decoded = decode(splitAt(mutated, cuts), stream.signed, stream.trailer !== undefined);
      });
      // Unsigned framing can be edited into another valid stream; signed data cannot.
      if (decoded === undefined || !stream.signed) return true;
      return decoded.data.equals(stream.data);
    }),
    400,
  );
  t.pass();
});

test('random bytes fail only with an S3Error, in every decoder mode', (t) => {
  check(
    fc.property(
      fc.uint8Array({ maxLength: 512 }),
      fc.boolean(),
      fc.boolean(),
      fc.integer({ min: 1, max: 64 }),
      (bytes, signed, trailer, step) => {
        const pieces: Buffer[] = [];
        for (let i = 0; i < bytes.length; i += step)
          pieces.push(Buffer.from(bytes.subarray(i, i + step)));
        onlyS3Error(() => decode(pieces, signed, trailer));
      },
    ),
    400,
  );
  t.pass();
});

test('framing-shaped noise (sizes, extensions, CRLFs, trailers) fails only with an S3Error', (t) => {
  const token = fc.constantFrom(
    '0',
    '1',
    'a',
    'F',
    'ffffffff',
    '10000000000000000',
    ';',
    ';chunk-signature=',
    SEED_SIGNATURE,
    '\r\n',
    '\r',
    '\n',
    'x-amz-checksum-crc32:',
    'x-amz-trailer-signature:',
    ':',
    ' ',
    'AAAA',
    '__proto__:',
    'constructor:',
  );
  check(
    fc.property(
      fc.array(token, { maxLength: 40 }),
      fc.boolean(),
      fc.boolean(),
      (tokens, signed, trailer) => {
        onlyS3Error(() => decode([Buffer.from(tokens.join(''), 'latin1')], signed, trailer));
      },
    ),
    500,
  );
  t.pass();
});
