/**
 * Writing a 1 MiB block durably as engine/blocks/store.ts does: create tmp/<name> exclusively,
 * write, fsync, close, rename into its fan-out directory, fsync that directory. The reference is
 * the same sequence without either fsync (durability = "relaxed"), so the ratio is the price of
 * durability per block on this disk. Files are unlinked between iterations, outside the timing.
 */
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  MIB,
  type MicroOptions,
  type MicroResult,
  newBench,
  pseudoRandomBytes,
  REF_PREFIX,
  runGroup,
  withTempDir,
} from './harness.js';

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function run(opts: MicroOptions): Promise<MicroResult[]> {
  return withTempDir(async (root) => {
    const tmp = join(root, 'tmp');
    const fanOut = join(root, 'ab');
    await mkdir(tmp);
    await mkdir(fanOut);
    const data = pseudoRandomBytes(MIB);
    let counter = 0;
    let last = '';

    const writeBlock = async (durable: boolean): Promise<void> => {
      const name = `block-${counter++}`;
      const tmpPath = join(tmp, name);
      const handle = await open(tmpPath, 'wx');
      try {
        let written = 0;
        while (written < data.length) {
          written += (await handle.write(data, written, data.length - written)).bytesWritten;
        }
        if (durable) await handle.sync();
      } finally {
        await handle.close();
      }
      last = join(fanOut, name);
      await rename(tmpPath, last);
      if (durable) await fsyncDir(fanOut);
    };
    const cleanup = { afterEach: async () => unlink(last) };

    const names = {
      durable: 'write 1 MiB + fsync + rename + fsync dir',
      ref: `${REF_PREFIX}write 1 MiB + rename, no fsync`,
    };
    const bench = newBench('blocks', opts)
      .add(names.durable, () => writeBlock(true), cleanup)
      .add(names.ref, () => writeBlock(false), cleanup);
    return runGroup('blocks', bench, { [names.durable]: MIB, [names.ref]: MIB });
  });
}
