import {
  MASTER_KEY_ENV,
  type MasterKey,
  masterKeyFromEnv,
  masterKeyPath,
  openMasterKey,
  PREVIOUS_MASTER_KEY_ENV,
  replaceMasterKey,
  retiredMasterKey,
  retireMasterKey,
} from './master-key.js';
import { newKey } from './wrap.js';

/**
 * Where a keyring's master keys come from: the current one (HANGAR_SSE_MASTER_KEY, else the
 * key file, else a generated file), and the ones it replaced (HANGAR_SSE_MASTER_KEY_PREVIOUS,
 * and the retired files a file rotation keeps). The environment is read once, when the keyring
 * is made: a malformed value throws there, at the start, never at the first encrypted GET.
 */
export class MasterKeys {
  private readonly fromEnv: MasterKey | null;
  private readonly previousFromEnv: MasterKey | null;
  private readonly path: string;
  private current: MasterKey | null = null;

  constructor(
    private readonly dataDir: string,
    private readonly configuredFile: string | null,
    env: Readonly<Record<string, string | undefined>> = process.env,
  ) {
    this.fromEnv = masterKeyFromEnv(MASTER_KEY_ENV, env);
    this.previousFromEnv = masterKeyFromEnv(PREVIOUS_MASTER_KEY_ENV, env);
    this.path = masterKeyPath(dataDir, configuredFile);
  }

  /** Whether the current key is the environment's (hangar cannot replace it). */
  get isFromEnv(): boolean {
    return this.fromEnv !== null;
  }

  /** HANGAR_SSE_MASTER_KEY_PREVIOUS, when set. */
  get previousFromEnvironment(): MasterKey | null {
    return this.previousFromEnv;
  }

  /** Where the current key comes from, for messages (never the key). */
  get origin(): string {
    return this.fromEnv !== null ? MASTER_KEY_ENV : this.path;
  }

  /**
   * The current key; a file is read on first use and re-read when asked (another thread may
   * have rotated it). `mayGenerate` says whether a missing default file may be made: only for
   * a keyring holding nothing yet.
   */
  currentKey(reread: boolean, mayGenerate: () => boolean): MasterKey {
    if (this.fromEnv !== null) return this.fromEnv;
    if (this.current === null || reread) {
      this.current = openMasterKey(this.path, this.configuredFile === null && mayGenerate());
    }
    return this.current;
  }

  /** A key the current one replaced, by id, or null when hangar has no such key. */
  replaced(id: string): MasterKey | null {
    if (this.previousFromEnv?.id === id) return this.previousFromEnv;
    return retiredMasterKey(this.dataDir, id);
  }

  /**
   * The key a rotation re-wraps under. From a file: a new random key, written in place of the
   * old one after the old one is kept among the retired keys (so a crash anywhere leaves every
   * sealed key readable). From the environment: the environment's key itself, as it is (the
   * operator rotates by setting a new HANGAR_SSE_MASTER_KEY and the old one as
   * HANGAR_SSE_MASTER_KEY_PREVIOUS, then asks for the re-wrap).
   */
  rotate(previous: MasterKey): MasterKey {
    if (this.fromEnv !== null) return this.fromEnv;
    retireMasterKey(this.dataDir, previous);
    this.current = replaceMasterKey(this.path, newKey());
    return this.current;
  }
}
