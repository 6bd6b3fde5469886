import { statfs } from 'node:fs/promises';

/** Free (for this user) and total bytes of the filesystem holding `dir`. */
export async function diskSpace(dir: string): Promise<{ available: number; total: number }> {
  const fs = await statfs(dir);
  return { available: fs.bavail * fs.bsize, total: fs.blocks * fs.bsize };
}
