/**
 * Incremental decoder for the aws-chunked body encoding (AWS S3 API reference: sigv4-streaming,
 * sigv4-streaming-trailers). It never holds body data: chunk payload is handed to onData as views
 * of the pushed input, and only chunk-header and trailer lines (a few bytes, bounded) are kept.
 *
 *   chunk       = hex-size [";chunk-signature=" sig] CRLF data CRLF
 *   last chunk  = "0" [";chunk-signature=" sig] CRLF
 *   then        = *(trailer-name ":" value CRLF) ["x-amz-trailer-signature:" sig CRLF] CRLF
 *
 * IMPORTANT for callers: data is passed on before its chunk signature can be checked (the
 * signature covers the whole chunk). A later SignatureDoesNotMatch from push() or finish() is
 * fatal for the whole request: everything received from onData must be thrown away.
 */

import { createHash, type Hash } from 'node:crypto';
import { LIMITS } from '../../engine/limits.js';
import { S3Error } from '../s3/errors.js';
import {
  type ChunkSigningContext,
  EMPTY_SHA256,
  sha256Hex,
  signaturesEqual,
  signHex,
} from './canonical.js';

export interface ChunkedDecoderOptions {
  /** for streaming-signed: verify each chunk's chained signature (and the trailer signature when trailer) */
  signing?: ChunkSigningContext;
  trailer: boolean; // expect trailing headers after the 0-size chunk
  onData: (bytes: Uint8Array) => void; // called with views into the pushed input; caller copies
  maxChunkBytes?: number; // sanity bound (default 16 MiB); reject bigger with S3Error
  /**
   * Smallest size allowed for a chunk that is not the last data chunk (default 8192, as AWS
   * enforces: InvalidChunkSizeError). 0 disables the check.
   */
  minChunkBytes?: number;
}

const CHUNK_SIGNATURE_EXT = 'chunk-signature=';
const TRAILER_SIGNATURE = 'x-amz-trailer-signature';
const SIZE_HEX = /^[0-9a-fA-F]{1,16}$/;
const SIGNATURE_HEX = /^[0-9a-f]{64}$/;
const CR = 13;
const LF = 10;

type State = 'chunk-header' | 'chunk-data' | 'chunk-data-crlf' | 'trailer' | 'done';

export class AwsChunkedDecoder {
  readonly #signing: ChunkSigningContext | undefined;
  readonly #trailerExpected: boolean;
  readonly #onData: (bytes: Uint8Array) => void;
  readonly #maxChunkBytes: number;
  readonly #minChunkBytes: number;

  #state: State = 'chunk-header';
  /** Partial chunk-header or trailer line, as latin1 text. */
  #line = '';
  #chunkNumber = 0;
  #chunkSize = 0;
  #chunkRemaining = 0;
  #crlfMatched = 0;
  /** Size of the previous data chunk when it was below the minimum (only legal if it was last). */
  #undersizedChunk = -1;
  #chunkHash: Hash | undefined;
  #chunkSignature = '';
  #previousSignature = '';
  #trailers: Record<string, string> = Object.create(null);
  #trailerBytes = 0;
  #trailerSignature: string | undefined;
  #decodedBytes = 0;
  #failure: S3Error | undefined;

  constructor(opts: ChunkedDecoderOptions) {
    this.#signing = opts.signing;
    this.#trailerExpected = opts.trailer;
    this.#onData = opts.onData;
    this.#maxChunkBytes = opts.maxChunkBytes ?? LIMITS.awsChunkBytesMax;
    this.#minChunkBytes = opts.minChunkBytes ?? LIMITS.awsChunkBytesMin;
    this.#previousSignature = opts.signing?.seedSignature ?? '';
  }

  /** Payload bytes handed to onData so far (compare with x-amz-decoded-content-length). */
  get decodedBytes(): number {
    return this.#decodedBytes;
  }

  /** feed raw body bytes as they arrive (any split, even 1 byte); throws S3Error on malformed framing or bad chunk signature */
  push(input: Uint8Array): void {
    this.#guard(() => {
      let pos = 0;
      while (pos < input.length) pos = this.#step(input, pos);
    });
  }

  /** call at end of body; throws S3Error('IncompleteBody') if framing incomplete; returns trailer headers (lower-cased names) */
  finish(): Record<string, string> {
    this.#guard(() => {
      if (this.#state !== 'done') throw malformed();
    });
    return { ...this.#trailers };
  }

  /** Once failed, the decoder stays failed: the request is dead. */
  #guard(work: () => void): void {
    if (this.#failure !== undefined) throw this.#failure;
    try {
      work();
    } catch (err) {
      if (err instanceof S3Error) this.#failure = err;
      throw err;
    }
  }

  /** Consumes what the current state can from input[pos..]; returns the new position. */
  #step(input: Uint8Array, pos: number): number {
    switch (this.#state) {
      case 'chunk-header':
      case 'trailer':
        return this.#readLine(input, pos);
      case 'chunk-data':
        return this.#readChunkData(input, pos);
      case 'chunk-data-crlf':
        return this.#readChunkDataCrlf(input, pos);
      case 'done':
        throw malformed(); // bytes after the terminating empty line
    }
  }

  // -------------------------------------------------------------------------------------------
  // Lines (chunk headers and trailers), terminated by CRLF

  #readLine(input: Uint8Array, pos: number): number {
    // Look no further than a legal line could reach, so garbage costs no more than a line.
    const limit = Math.min(input.length, pos + LIMITS.awsChunkLineBytesMax + 1 - this.#line.length);
    const lf = input.subarray(0, limit).indexOf(LF, pos);
    const end = lf < 0 ? limit : lf;
    this.#line += latin1(input, pos, end);
    if (this.#line.length > LIMITS.awsChunkLineBytesMax) throw malformed();
    if (lf < 0) return limit;
    if (this.#line.endsWith('\r')) {
      const line = this.#line.slice(0, -1);
      this.#line = '';
      if (this.#state === 'chunk-header') this.#onChunkHeader(line);
      else this.#onTrailerLine(line);
    } else if (this.#state === 'trailer') {
      // Some clients end a trailer value with a bare LF before the CRLF; keep it in the line
      // (it is trimmed off the value) rather than misreading the CRLF as the end of trailers.
      this.#line += '\n';
    } else {
      throw malformed();
    }
    return lf + 1;
  }

  #onChunkHeader(line: string): void {
    const semicolon = line.indexOf(';');
    const sizeText = semicolon < 0 ? line : line.slice(0, semicolon);
    const extension = semicolon < 0 ? '' : line.slice(semicolon + 1);
    if (!SIZE_HEX.test(sizeText)) throw malformed();
    const size = Number.parseInt(sizeText, 16);
    if (size > this.#maxChunkBytes) {
      throw new S3Error(
        'InvalidRequest',
        `Chunk size ${size} exceeds the maximum of ${this.#maxChunkBytes} bytes`,
      );
    }
    this.#chunkNumber++;
    this.#checkPreviousChunkWasLast(size);
    if (this.#signing !== undefined) this.#chunkSignature = parseChunkSignature(extension);
    if (size === 0) {
      if (this.#signing !== undefined) this.#verifyChunkSignature(EMPTY_SHA256);
      this.#state = 'trailer';
      return;
    }
    this.#chunkSize = size;
    this.#chunkRemaining = size;
    this.#chunkHash = this.#signing === undefined ? undefined : createHash('sha256');
    this.#state = 'chunk-data';
  }

  /** AWS allows a small data chunk only as the last one before the 0-size chunk. */
  #checkPreviousChunkWasLast(size: number): void {
    if (size === 0 || this.#undersizedChunk < 0) return;
    throw new S3Error('InvalidChunkSizeError', undefined, {
      Chunk: String(this.#chunkNumber),
      BadChunkSize: String(this.#undersizedChunk),
    });
  }

  // -------------------------------------------------------------------------------------------
  // Chunk data

  #readChunkData(input: Uint8Array, pos: number): number {
    const take = Math.min(this.#chunkRemaining, input.length - pos);
    const view = input.subarray(pos, pos + take);
    this.#chunkHash?.update(view);
    this.#chunkRemaining -= take;
    this.#decodedBytes += take;
    this.#onData(view);
    if (this.#chunkRemaining === 0) this.#endChunkData();
    return pos + take;
  }

  #endChunkData(): void {
    if (this.#chunkHash !== undefined) {
      this.#verifyChunkSignature(this.#chunkHash.digest('hex'));
      this.#chunkHash = undefined;
    }
    this.#undersizedChunk = this.#chunkSize < this.#minChunkBytes ? this.#chunkSize : -1;
    this.#crlfMatched = 0;
    this.#state = 'chunk-data-crlf';
  }

  #readChunkDataCrlf(input: Uint8Array, pos: number): number {
    const expected = this.#crlfMatched === 0 ? CR : LF;
    if (input[pos] !== expected) throw malformed();
    this.#crlfMatched++;
    if (this.#crlfMatched === 2) this.#state = 'chunk-header';
    return pos + 1;
  }

  #verifyChunkSignature(chunkSha256: string): void {
    const signing = this.#signing;
    if (signing === undefined) return;
    const toSign = [
      'AWS4-HMAC-SHA256-PAYLOAD',
      signing.amzDate,
      signing.scope,
      this.#previousSignature,
      EMPTY_SHA256,
      chunkSha256,
    ].join('\n');
    const expected = signHex(signing.signingKey, toSign);
    if (!signaturesEqual(expected, this.#chunkSignature)) {
      throw new S3Error('SignatureDoesNotMatch');
    }
    this.#previousSignature = expected;
  }

  // -------------------------------------------------------------------------------------------
  // Trailer

  #onTrailerLine(line: string): void {
    if (line === '') {
      this.#endTrailer();
      return;
    }
    if (!this.#trailerExpected) throw malformed();
    this.#trailerBytes += line.length;
    if (this.#trailerBytes > LIMITS.awsChunkTrailerBytesMax) throw malformedTrailer();
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformedTrailer();
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === '' || name in this.#trailers) throw malformedTrailer();
    if (name === TRAILER_SIGNATURE) {
      if (this.#trailerSignature !== undefined) throw malformedTrailer();
      this.#trailerSignature = value;
    } else {
      // The signature line closes the signed trailer: nothing signed may follow it.
      if (this.#trailerSignature !== undefined) throw malformedTrailer();
      this.#trailers[name] = value;
    }
  }

  #endTrailer(): void {
    if (this.#signing !== undefined && this.#trailerExpected) this.#verifyTrailerSignature();
    this.#state = 'done';
  }

  #verifyTrailerSignature(): void {
    const signing = this.#signing;
    if (signing === undefined) return;
    const canonical = Object.keys(this.#trailers)
      .sort()
      .map((name) => `${name}:${this.#trailers[name]}\n`)
      .join('');
    const toSign = [
      'AWS4-HMAC-SHA256-TRAILER',
      signing.amzDate,
      signing.scope,
      this.#previousSignature,
      sha256Hex(canonical),
    ].join('\n');
    const expected = signHex(signing.signingKey, toSign);
    if (!signaturesEqual(expected, this.#trailerSignature ?? '')) {
      throw new S3Error('SignatureDoesNotMatch');
    }
  }
}

function parseChunkSignature(extension: string): string {
  if (!extension.startsWith(CHUNK_SIGNATURE_EXT)) throw malformed();
  const signature = extension.slice(CHUNK_SIGNATURE_EXT.length);
  if (!SIGNATURE_HEX.test(signature)) throw malformed();
  return signature;
}

function latin1(input: Uint8Array, start: number, end: number): string {
  return Buffer.from(input.buffer, input.byteOffset + start, end - start).toString('latin1');
}

/** AWS answers IncompleteBody for every framing fault, truncation included. */
function malformed(): S3Error {
  return new S3Error('IncompleteBody', 'The request body terminated unexpectedly');
}

function malformedTrailer(): S3Error {
  return new S3Error('MalformedTrailerError');
}
