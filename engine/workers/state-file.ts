import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * A worker's small persistent state (a JSON file under <dataDir>/workers/): read at start-up,
 * replaced atomically (write a temp file, rename) so a crash leaves the old or the new state,
 * never half of one. Losing it costs little (a scrub restarts from the beginning).
 */
export class StateFile<T extends object> {
  constructor(
    private readonly path: string,
    private readonly initial: () => T,
  ) {}

  async load(): Promise<T> {
    try {
      const parsed = JSON.parse(await readFile(this.path, 'utf8')) as Partial<T>;
      return { ...this.initial(), ...parsed };
    } catch {
      return this.initial();
    }
  }

  async save(state: T): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, JSON.stringify(state, null, 2));
    await rename(tmp, this.path);
  }
}
