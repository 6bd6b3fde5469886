import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { S3Error } from '../s3/errors.js';
import { bunzipped } from './bunzip2.js';

/**
 * The object's bytes as the query reads them: as stored (NONE), or decompressed (GZIP, BZIP2),
 * pulled chunk by chunk so memory stays bounded whatever the object's size. A body that is not
 * in the named format at all is InvalidCompressionFormat; one that starts right and then breaks
 * (truncated, corrupt block, bad CRC) is AWS's TruncatedInput ("Object decompression failed").
 */
export async function* decompressed(
  compression: 'NONE' | 'GZIP' | 'BZIP2',
  source: AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  if (compression === 'NONE') yield* source;
  else if (compression === 'GZIP') yield* gunzipped(source);
  else yield* bunzipped(source);
}

async function* gunzipped(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const gunzip = pipeline(Readable.from(source), createGunzip(), () => {});
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (error) {
    if ((error as { code?: unknown }).code?.toString().startsWith('Z_')) {
      throw new S3Error('InvalidCompressionFormat', 'The object is not valid GZIP data.');
    }
    throw error;
  }
}
