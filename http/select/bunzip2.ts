import { createRequire } from 'node:module';
import { S3Error } from '../s3/errors.js';

/**
 * BZIP2 decompression for Select, block by block, over unbzip2-stream's decoder (its
 * lib/bzip2.js, micro-bunzip's port) driven here rather than through its `through` stream: that
 * stream gathers each block's output as a JS array of numbers, ~1 GB of heap for one 45 MB
 * block (a 178-byte bzip2 of zeros does that). Here a block's bytes go into 256 KiB pages, so
 * a Select holds at most a block's input (<= 900 kB + slack) and its output, which the bzip2
 * format bounds (900 kB before run-length coding: ~46 MB), whatever the object.
 *
 * The decoder keeps per-block tables on its module object; each block is decoded in one
 * synchronous call that first resets what it uses, so concurrent Selects cannot interleave.
 */
interface Bzip2Decoder {
  header(bits: BitReader): number;
  decompress(
    bits: BitReader,
    write: (byte: number) => void,
    buf: Int32Array,
    bufsize: number,
    streamCrc: number | null,
  ): number | null;
}
type BitReader = ((n: number | null) => number) & { bytesRead: number };

const require = createRequire(import.meta.url);
const bzip2 = require('unbzip2-stream/lib/bzip2.js') as Bzip2Decoder;
const bitIterator = require('unbzip2-stream/lib/bit_iterator.js') as (
  next: () => Uint8Array | undefined,
) => BitReader;

/** Input a block needs before it is decoded: its largest compressed size, with slack. */
function blockInputBytes(level: number): number {
  return 25_000 + 100_000 * level;
}
/** Pieces the output of a block is handed on in (the text decoder and readers take these). */
const PIECE_BYTES = 256 * 1024;
/** unbzip2-stream's messages for input that is not bzip2 at all (its header check). */
const NOT_BZIP2 = /No magic number found|Not a BZIP archive/;

export async function* bunzipped(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const queue: Uint8Array[] = [];
  let buffered = 0;
  let ended = false;
  // The bit reader takes its first buffer when made: made once the first input is queued.
  let reader: BitReader | null = null;
  const output = new BlockOutput();
  let level = 0;
  let streamCrc: number | null = null;
  let blocks: Int32Array | null = null;
  const input = source[Symbol.asyncIterator]();
  /** Decodes one header or block; false at the end of a stream (its CRC checked). */
  const step = (bits: BitReader): boolean => {
    if (level === 0) {
      level = bzip2.header(bits);
      streamCrc = 0;
      if (blocks === null || blocks.length < 100_000 * level)
        blocks = new Int32Array(100_000 * level);
      return true;
    }
    streamCrc = bzip2.decompress(
      bits,
      output.write,
      blocks as Int32Array,
      100_000 * level,
      streamCrc,
    );
    if (streamCrc !== null) return true;
    level = 0; // a stream ended: another may follow (concatenated .bz2 files)
    return false;
  };
  try {
    for (;;) {
      while (!ended && buffered - (reader?.bytesRead ?? 0) < blockInputBytes(level || 9)) {
        const next = await input.next();
        if (next.done === true) ended = true;
        else {
          // A copy: the chunk's buffer goes back to the shard when the next one is pulled.
          queue.push(Uint8Array.from(next.value));
          buffered += next.value.byteLength;
        }
      }
      if (buffered === 0) throw new S3Error('InvalidCompressionFormat', 'The object is empty.');
      reader ??= bitIterator(() => queue.shift());
      if (reader.bytesRead >= buffered) {
        if (level !== 0 || streamCrc !== null)
          throw new S3Error('TruncatedInput', 'BZIP2 data ended inside a stream.');
        return;
      }
      try {
        step(reader);
      } catch (error) {
        throw decompressionError(error);
      }
      yield* output.take();
    }
  } finally {
    await input.return?.();
  }
}

/**
 * One block's output in pages of PIECE_BYTES: no contiguous buffer to grow (and copy) to a
 * bomb's ~46 MB. A page handed on is reused once the consumer pulls the next one (it has read
 * it by then), so the pages a Select allocates stay those of its largest block, with no garbage
 * from one block still waiting for the collector while the next fills.
 */
class BlockOutput {
  private full: Uint8Array<ArrayBuffer>[] = [];
  private readonly spare: Uint8Array<ArrayBuffer>[] = [];
  private page = new Uint8Array(PIECE_BYTES);
  private length = 0;

  readonly write = (byte: number): void => {
    if (this.length === PIECE_BYTES) {
      this.full.push(this.page);
      this.page = this.spare.pop() ?? new Uint8Array(PIECE_BYTES);
      this.length = 0;
    }
    this.page[this.length++] = byte;
  };

  /** The block's bytes, page by page; each valid until the next is pulled. */
  *take(): Generator<Uint8Array> {
    const pages = this.full;
    this.full = [];
    for (const page of pages) {
      yield page;
      this.spare.push(page);
    }
    if (this.length > 0) {
      yield this.page.subarray(0, this.length);
      this.length = 0;
    }
  }
}

function decompressionError(error: unknown): S3Error {
  if (error instanceof S3Error) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (NOT_BZIP2.test(message))
    return new S3Error('InvalidCompressionFormat', 'The object is not BZIP2 data.');
  return new S3Error('TruncatedInput', `BZIP2 decompression failed: ${message}`);
}
