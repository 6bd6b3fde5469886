import { Catalog } from '../catalog/catalog.js';
import { engineFailure } from '../errors.js';
import { Keyring, KmsError, kmsS3Code } from '../sse/keyring.js';
import type { DataKeys, ManagedKey } from '../sse/managed.js';

/**
 * A shard's access to the keyring, to open the data keys of SSE-S3 and SSE-KMS objects and
 * uploads. The catalog (where keyring keys live) is opened on the first managed object only:
 * a shard that never meets one never opens it.
 */
export class ShardKeys {
  private catalog: Catalog | null = null;
  private keyring: Keyring | null = null;

  constructor(
    private readonly dataDir: string,
    private readonly masterKeyFile: string | null,
  ) {}

  /** The data key of a managed object or upload, or the S3 failure that refuses it. */
  dataKeyOf(managed: ManagedKey): DataKeys {
    try {
      return this.open().dataKeyOf(managed);
    } catch (error) {
      const code = error instanceof KmsError ? kmsS3Code(error) : null;
      if (code !== null) throw engineFailure(code, (error as KmsError).message);
      // Anything else (KeyIntegrityError: a corrupt record) is an internal error, logged: never
      // a wrong key that would decrypt to garbage.
      throw error;
    }
  }

  private open(): Keyring {
    if (this.keyring === null) {
      this.catalog = Catalog.open(this.dataDir);
      this.keyring = new Keyring(this.catalog.kmsTables(), this.dataDir, this.masterKeyFile);
    }
    return this.keyring;
  }

  async close(): Promise<void> {
    await this.catalog?.close();
    this.catalog = null;
    this.keyring = null;
  }
}
