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

  /** Saves run one after another (each of the latest state): two never share the temp file. */
  private saving: Promise<void> = Promise.resolve();

  save(state: T): Promise<void> {
    const text = JSON.stringify(state, null, 2);
    const next = this.saving.catch(() => undefined).then(() => this.write(text));
    this.saving = next;
    return next;
  }

  private async write(text: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, text);
    await rename(tmp, this.path);
  }
}
