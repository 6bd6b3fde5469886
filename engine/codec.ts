import { Encoder } from 'cbor-x';

/**
 * The cbor-x encoder used for every LMDB record. `copyBuffers` matters: without it, binary
 * fields (inline object bodies) decode as views into LMDB's reused read buffer and change under
 * the reader's feet. Plain maps, no record structures: records stay self-describing on disk.
 */
export function recordEncoder(): Encoder {
  return new Encoder({ useRecords: false, mapsAsObjects: true, copyBuffers: true });
}
