import { randomUUID } from 'node:crypto';
import { assert } from '../assert.js';
import {
  DEFAULT_KMS_ALIAS,
  type KmsKeyOrigin,
  type KmsKeyRecord,
  type KmsKeyVersion,
  type KmsTables,
  SSE_S3_KEY_ID,
} from '../catalog/kms.js';
import { LIMITS } from '../limits.js';
import {
  type DataKeys,
  dataKeyAad,
  type ManagedDataKey,
  type ManagedKey,
  type ManagedKind,
  outerKeyAad,
} from './managed.js';
import { dropRetiredMasterKeys, type MasterKey, readMasterKey } from './master-key.js';
import { MasterKeys } from './master-keys.js';
import { newKey, openKey, sealKey } from './wrap.js';

/** Why the keyring refused: the names are AWS KMS's exceptions. */
export type KmsReason =
  | 'NotFoundException'
  | 'DisabledException'
  | 'KMSInvalidStateException'
  | 'LimitExceededException';

export class KmsError extends Error {
  constructor(
    readonly reason: KmsReason,
    message: string,
  ) {
    super(message);
    this.name = 'KmsError';
  }
}

/** The S3 error codes of a key an object or a write cannot use: KMS's exception, prefixed. */
export type KmsS3Code =
  | 'KMS.NotFoundException'
  | 'KMS.DisabledException'
  | 'KMS.KMSInvalidStateException';

/**
 * The one mapping of keyring refusals to what S3 answers (AWS prefixes KMS's exception name
 * with "KMS."); null for a refusal S3 requests never meet (a limit of the admin API).
 */
export function kmsS3Code(error: KmsError): KmsS3Code | null {
  return error.reason === 'LimitExceededException' ? null : `KMS.${error.reason}`;
}

/** A key's state, as KMS names it. */
export type KmsKeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

/** A keyring key as the admin API shows it (never its material). */
export interface KmsKeyView {
  readonly id: string;
  readonly alias: string | null;
  readonly description: string;
  readonly createdMs: number;
  readonly enabled: boolean;
  readonly state: KmsKeyState;
  /** PendingDeletion: when the key is deleted (ms since the epoch); else null. */
  readonly deletionMs: number | null;
  readonly origin: KmsKeyOrigin;
  readonly versions: number;
}

/** What a master-key rotation did. */
export interface MasterRotation {
  readonly previousId: string;
  readonly currentId: string;
  /** Key versions re-wrapped under the new master key. */
  readonly rewrapped: number;
  /** Retired master keys deleted because nothing is wrapped under them any more. */
  readonly dropped: readonly string[];
}

const ARN_PATTERN = /^arn:aws:kms:[a-z0-9-]*:\d{12}:key\/([A-Za-z0-9-]{1,64})$/;
const ALIAS_ARN_PATTERN = /^arn:aws:kms:[a-z0-9-]*:\d{12}:alias\/([A-Za-z0-9/_-]{1,256})$/;

/** The ARN S3 reports for a keyring key (hangar has one account: 000000000000). */
export function kmsKeyArn(region: string, keyId: string): string {
  return `arn:aws:kms:${region}:000000000000:key/${keyId}`;
}

function materialAad(keyId: string, version: number): string {
  return `hangar-kms-key\0${keyId}\0${version}`;
}

function viewOf(record: KmsKeyRecord): KmsKeyView {
  return {
    id: record.id,
    alias: record.alias ?? null,
    description: record.description,
    createdMs: record.createdMs,
    // As KMS's DescribeKey: a key pending deletion is not enabled, whatever it was before.
    enabled: stateOf(record) === 'Enabled',
    state: stateOf(record),
    deletionMs: record.deletionMs ?? null,
    origin: record.origin,
    versions: record.versions.length,
  };
}

function stateOf(record: KmsKeyRecord): KmsKeyState {
  if (record.deletionMs !== undefined) return 'PendingDeletion';
  return record.enabled ? 'Enabled' : 'Disabled';
}

const DAY_MS = 86_400_000;

/**
 * The built-in keyring of SSE-S3 and SSE-KMS: three levels of keys. The master key (a file)
 * seals each keyring key's material (catalog records); the material seals each object's data
 * key (object records); the data key encrypts the object. Rotating the master key therefore
 * rewrites a handful of catalog records, never an object record or a byte of data.
 *
 * One per thread that needs it (edge threads wrap at PUT; shards unwrap at GET and UploadPart).
 * Opened material is cached by its sealed bytes, so a re-wrapped or rotated record is reopened.
 */
export class Keyring {
  private master: MasterKey | null = null;
  private readonly opened = new Map<string, { sealed: Uint8Array; material: Buffer }>();
  private readonly masters: MasterKeys;

  /**
   * `masterKeyFile`: config.sse.masterKeyFile (null: `<dataDir>/sse-master.key`); the
   * environment's HANGAR_SSE_MASTER_KEY, when set, comes first (engine/sse/master-keys.ts).
   * `now`: the clock that ends deletion waiting periods (a test's own clock skips the days).
   */
  constructor(
    private readonly tables: KmsTables,
    private readonly dataDir: string,
    masterKeyFile: string | null,
    private readonly now: () => number = Date.now,
    env: Readonly<Record<string, string | undefined>> = process.env,
  ) {
    this.masters = new MasterKeys(dataDir, masterKeyFile, env);
  }

  // ---- objects ----

  /** A new data key for an SSE-S3 object or upload, under the internal key (made on first use). */
  newSseS3DataKey(): ManagedDataKey {
    const record = this.tables.keys.get(SSE_S3_KEY_ID) ?? this.createInternalKey();
    return this.newDataKey('s3', record, undefined, undefined);
  }

  /**
   * A new data key for an SSE-KMS object under the key `ref` names (id, key ARN, alias or alias
   * ARN; null: the default `aws/s3`, made on first use). An unknown or disabled key is refused.
   * `kind` 'dsse' (dual-layer): two independent data keys, both sealed under that key.
   */
  newKmsDataKey(
    ref: string | null,
    context: string | undefined,
    bucketKey?: boolean,
    kind: 'kms' | 'dsse' = 'kms',
  ): ManagedDataKey {
    const record = ref === null ? this.defaultKey() : this.find(ref);
    if (record === undefined || record.origin === 'internal') {
      throw new KmsError('NotFoundException', `Key '${ref}' does not exist`);
    }
    return this.newDataKey(kind, record, context, bucketKey);
  }

  private newDataKey(
    kind: ManagedKind,
    record: KmsKeyRecord,
    context: string | undefined,
    bucketKey: boolean | undefined,
  ): ManagedDataKey {
    const material = this.usableMaterial(record, record.versions.length - 1);
    const key = newKey();
    const fields = {
      kind,
      keyId: record.id,
      keyVersion: record.versions.length - 1,
      ...(context !== undefined ? { context } : {}),
      ...(bucketKey !== undefined ? { bucketKey } : {}),
    };
    const managed = { ...fields, wrapped: sealKey(material, key, dataKeyAad(fields)) };
    if (kind !== 'dsse') return { key, managed };
    const outerKey = newKey();
    const wrappedOuter = sealKey(material, outerKey, outerKeyAad(fields));
    return { key, outerKey, managed: { ...managed, wrappedOuter } };
  }

  /** The data keys of a managed object: KmsError if its key is gone, disabled or pending. */
  dataKeyOf(managed: ManagedKey): DataKeys {
    const record = this.live(this.tables.keys.get(managed.keyId));
    if (record === undefined) {
      throw new KmsError('NotFoundException', `Key '${managed.keyId}' does not exist`);
    }
    const material = this.usableMaterial(record, managed.keyVersion);
    const what = `object key of ${record.id}`;
    const key = openKey(material, managed.wrapped, dataKeyAad(managed), what);
    if (managed.kind !== 'dsse') return { key };
    // A dual-layer record without its outer key is corrupt: an integrity error, as a bad seal.
    const outer = managed.wrappedOuter ?? new Uint8Array();
    return { key, outerKey: openKey(material, outer, outerKeyAad(managed), what) };
  }

  /** A version's material, once the key is known to be enabled. */
  private usableMaterial(record: KmsKeyRecord, version: number): Buffer {
    if (record.deletionMs !== undefined) {
      throw new KmsError('KMSInvalidStateException', `Key '${record.id}' is pending deletion.`);
    }
    if (!record.enabled) {
      throw new KmsError(
        'DisabledException',
        `${record.id === SSE_S3_KEY_ID ? 'The SSE-S3 key' : `Key '${record.id}'`} is disabled.`,
      );
    }
    const stored = record.versions[version];
    if (stored === undefined) {
      throw new KmsError('NotFoundException', `Key '${record.id}' has no version ${version}`);
    }
    const cacheKey = `${record.id}\0${version}`;
    const cached = this.opened.get(cacheKey);
    if (cached !== undefined && Buffer.from(cached.sealed).equals(stored.sealed)) {
      return cached.material;
    }
    const master = this.masterById(stored.masterKeyId);
    const material = openKey(
      master.key,
      stored.sealed,
      materialAad(record.id, version),
      `material of key ${record.id}`,
    );
    this.opened.set(cacheKey, { sealed: stored.sealed, material });
    return material;
  }

  // ---- master keys ----

  /**
   * The current master key: read on first use, re-read when asked for. Generated only into the
   * default path of a keyring that holds no key yet (engine/sse/master-key.ts openMasterKey).
   */
  currentMaster(reread = false): MasterKey {
    if (this.master === null || reread) {
      this.master = this.masters.currentKey(reread, () => this.tables.keys.getCount() === 0);
    }
    return this.master;
  }

  /**
   * A master key by id: the current one (re-read: another thread may have rotated), or one it
   * replaced (HANGAR_SSE_MASTER_KEY_PREVIOUS, or a retired file).
   */
  private masterById(id: string): MasterKey {
    if (this.master?.id === id) return this.master;
    const current = this.currentMaster(true);
    if (current.id === id) return current;
    const replaced = this.masters.replaced(id);
    if (replaced === null) {
      throw new Error(
        `SSE master key ${id} is neither the current one (${this.masters.origin}, id ${current.id}) nor a retired one`,
      );
    }
    return replaced;
  }

  /**
   * Throws unless every key the keyring holds is sealed under a master key hangar has: run at
   * the start, so that a wrong key (another HANGAR_SSE_MASTER_KEY, a file swapped by hand)
   * stops the server with a message rather than failing every encrypted read with a 500.
   */
  checkMasterKeys(): void {
    const current = this.currentMaster(true);
    const missing = [...this.masterIdsInUse()].filter(
      (id) => id !== current.id && this.masters.replaced(id) === null,
    );
    if (missing.length === 0) return;
    throw new Error(
      `the SSE keyring is sealed under master key ${missing.join(', ')}, but the current master key (${this.masters.origin}) is ${current.id}: start with the key it was sealed under${this.masters.isFromEnv ? ', or give that key as HANGAR_SSE_MASTER_KEY_PREVIOUS to re-wrap under the new one' : ''}`,
    );
  }

  private sealMaterial(keyId: string, version: number, material: Buffer): KmsKeyVersion {
    const master = this.currentMaster(true);
    return {
      masterKeyId: master.id,
      sealed: sealKey(master.key, material, materialAad(keyId, version)),
      createdMs: Date.now(),
    };
  }

  /**
   * Replaces the master key with a new random one and re-wraps every keyring key's material
   * under it, in one catalog transaction. The old key is first kept under
   * `sse-master-keys/<id>.key`, so a crash at any point leaves every key readable (running the
   * rotation again finishes the job); it is deleted once nothing is wrapped under it.
   * With HANGAR_SSE_MASTER_KEY, no key is made: everything is re-wrapped under that key (opened
   * with HANGAR_SSE_MASTER_KEY_PREVIOUS), after which the previous key may be unset.
   */
  async rotateMaster(): Promise<MasterRotation> {
    await this.purgeDeleted();
    const current = this.currentMaster(true);
    const previous = this.masters.previousFromEnvironment ?? current;
    const next = this.masters.rotate(current);
    this.master = next;
    const rewrapped = await this.tables.transaction(() => {
      let count = 0;
      for (const { value: record } of this.tables.keys.getRange()) {
        const versions = record.versions.map((stored, version) => {
          if (stored.masterKeyId === next.id) return stored;
          count++;
          const old = this.masterById(stored.masterKeyId);
          const aad = materialAad(record.id, version);
          const material = openKey(old.key, stored.sealed, aad, `material of key ${record.id}`);
          return { ...stored, masterKeyId: next.id, sealed: sealKey(next.key, material, aad) };
        });
        this.tables.keys.put(record.id, { ...record, versions });
      }
      return count;
    });
    await this.tables.flushed();
    const dropped = dropRetiredMasterKeys(this.dataDir, this.masterIdsInUse());
    return { previousId: previous.id, currentId: next.id, rewrapped, dropped };
  }

  private masterIdsInUse(): Set<string> {
    const ids = new Set<string>();
    for (const { value } of this.tables.keys.getRange()) {
      for (const version of value.versions) ids.add(version.masterKeyId);
    }
    return ids;
  }

  /** Re-reads a master key file (after an operator replaced it): the id it has now. */
  static idOfFile(path: string): string {
    return readMasterKey(path).id;
  }

  // ---- keyring keys ----

  /** A key by id, key ARN, `alias/<name>` or alias ARN. */
  find(ref: string): KmsKeyRecord | undefined {
    const alias = ref.startsWith('alias/') ? ref.slice(6) : ALIAS_ARN_PATTERN.exec(ref)?.[1];
    if (alias !== undefined) {
      const id = this.tables.aliases.get(alias);
      return id === undefined ? undefined : this.live(this.tables.keys.get(id));
    }
    const id = ARN_PATTERN.exec(ref)?.[1] ?? ref;
    return this.live(this.tables.keys.get(id));
  }

  /** A record, unless its deletion date has passed: then the key is gone (purged later). */
  private live(record: KmsKeyRecord | undefined): KmsKeyRecord | undefined {
    if (record?.deletionMs !== undefined && record.deletionMs <= this.now()) return undefined;
    return record;
  }

  list(): KmsKeyView[] {
    return [...this.tables.keys.getRange()]
      .map(({ value }) => this.live(value))
      .filter((record) => record !== undefined && record.origin !== 'internal')
      .map((record) => viewOf(record as KmsKeyRecord));
  }

  /**
   * Deletes the records (material and alias) of keys whose waiting period is over: run by the
   * admin API's listing and by master-key rotation. Until then such a key already reads as
   * gone (`live`); this frees the record and makes the deletion irreversible on disk.
   */
  async purgeDeleted(): Promise<string[]> {
    const now = this.now();
    const due = [...this.tables.keys.getRange()]
      .map(({ value }) => value)
      .filter((record) => record.deletionMs !== undefined && record.deletionMs <= now);
    if (due.length === 0) return [];
    await this.tables.transaction(() => {
      for (const record of due) {
        this.tables.keys.remove(record.id);
        if (record.alias !== undefined) this.tables.aliases.remove(record.alias);
      }
    });
    await this.tables.flushed();
    return due.map((record) => record.id);
  }

  view(ref: string): KmsKeyView | undefined {
    const record = this.find(ref);
    return record === undefined || record.origin === 'internal' ? undefined : viewOf(record);
  }

  /** A new customer key (the admin API, `hangar kms create`): durable when it resolves. */
  async createKey(description: string, alias?: string): Promise<KmsKeyView> {
    const id = randomUUID();
    const work = this.creation(id, description, 'customer', alias);
    const stored = await this.tables.transaction(work);
    await this.tables.flushed();
    return viewOf(checkCreated(stored, id, 'customer', alias));
  }

  /**
   * Makes the keys hangar manages (SSE-S3's internal key, the default `aws/s3`) if missing. In
   * cluster mode the catalog has no synchronous transaction, so the first PUT could not make them
   * as embedded does: the gateway makes them at boot (engine/catalog/cluster-catalog.ts).
   */
  async ensureManagedKeys(): Promise<void> {
    const made = [
      this.creation(SSE_S3_KEY_ID, INTERNAL_DESCRIPTION, 'internal'),
      this.creation(randomUUID(), DEFAULT_DESCRIPTION, 'aws', DEFAULT_KMS_ALIAS),
    ];
    for (const work of made) await this.tables.transaction(work);
    await this.tables.flushed();
  }

  private createInternalKey(): KmsKeyRecord {
    return this.createManaged(SSE_S3_KEY_ID, INTERNAL_DESCRIPTION, 'internal');
  }

  private defaultKey(): KmsKeyRecord {
    const existing = this.find(`alias/${DEFAULT_KMS_ALIAS}`);
    if (existing !== undefined) return existing;
    return this.createManaged(randomUUID(), DEFAULT_DESCRIPTION, 'aws', DEFAULT_KMS_ALIAS);
  }

  /**
   * A managed key made on first use: synchronous and durable on return (rare: once per key),
   * so that no object is sealed under a key that a crash could lose.
   */
  private createManaged(
    id: string,
    description: string,
    origin: KmsKeyOrigin,
    alias?: string,
  ): KmsKeyRecord {
    const stored = this.tables.transactionSync(this.creation(id, description, origin, alias));
    return checkCreated(stored, id, origin, alias);
  }

  /**
   * The transaction work storing a new key unless its id or alias exists already: threads (or
   * gateways) making the default key at once end up with the same one (the first committed).
   * It returns the stored record, or null when the key limit refuses a customer key.
   */
  private creation(
    id: string,
    description: string,
    origin: KmsKeyOrigin,
    alias?: string,
  ): () => KmsKeyRecord | null {
    const record: Omit<KmsKeyRecord, 'versions'> = {
      id,
      description,
      createdMs: Date.now(),
      enabled: true,
      origin,
      ...(alias !== undefined ? { alias } : {}),
    };
    return () => {
      const existingId = alias === undefined ? id : (this.tables.aliases.get(alias) ?? id);
      const existing = this.tables.keys.get(existingId);
      if (existing !== undefined) return existing;
      if (origin === 'customer' && this.tables.keys.getCount() >= LIMITS.kmsKeysMax) return null;
      // Sealed inside the transaction: a master-key rotation (which replaces the key file
      // before its own transaction) either comes after and re-wraps this, or came before and
      // this reads the new key.
      const sealed = { ...record, versions: [this.sealMaterial(id, 0, newKey())] };
      this.tables.keys.put(id, sealed);
      if (alias !== undefined) this.tables.aliases.put(alias, id);
      return sealed;
    };
  }

  /** Adds a version of new material: new data keys use it; old ones keep theirs. */
  async rotateKey(ref: string): Promise<KmsKeyView> {
    return this.change(ref, (record) => {
      refusePending(record);
      if (record.versions.length >= LIMITS.kmsKeyVersionsMax) {
        throw new KmsError(
          'LimitExceededException',
          `at most ${LIMITS.kmsKeyVersionsMax} versions`,
        );
      }
      const version = record.versions.length;
      return {
        ...record,
        versions: [...record.versions, this.sealMaterial(record.id, version, newKey())],
      };
    });
  }

  async setEnabled(ref: string, enabled: boolean): Promise<KmsKeyView> {
    return this.change(ref, (record) => {
      refusePending(record);
      return { ...record, enabled };
    });
  }

  /**
   * ScheduleKeyDeletion: the key turns PendingDeletion now (its objects unreadable, as a
   * disabled key's) and is deleted after `windowDays` days, its objects then lost for good.
   * Only the operator's own keys: like AWS-managed keys, aws/s3 and SSE-S3's are never deleted.
   */
  async scheduleDeletion(ref: string, windowDays: number): Promise<KmsKeyView> {
    assert(
      Number.isInteger(windowDays) &&
        windowDays >= LIMITS.kmsDeletionWindowDaysMin &&
        windowDays <= LIMITS.kmsDeletionWindowDaysMax,
      'the waiting period is validated by the caller',
    );
    return this.change(ref, (record) => {
      if (record.origin !== 'customer') {
        throw new KmsError(
          'KMSInvalidStateException',
          `Key '${record.id}' is managed by hangar (${record.alias ?? record.origin}): it cannot be deleted.`,
        );
      }
      refusePending(record);
      return { ...record, deletionMs: this.now() + windowDays * DAY_MS };
    });
  }

  /** CancelKeyDeletion: the key is kept, Disabled (as KMS leaves it); enable it to use it. */
  async cancelDeletion(ref: string): Promise<KmsKeyView> {
    return this.change(ref, (record) => {
      if (record.deletionMs === undefined) {
        throw new KmsError(
          'KMSInvalidStateException',
          `Key '${record.id}' is not pending deletion.`,
        );
      }
      const { deletionMs: _cancelled, ...kept } = record;
      return { ...kept, enabled: false };
    });
  }

  private async change(
    ref: string,
    update: (record: KmsKeyRecord) => KmsKeyRecord,
  ): Promise<KmsKeyView> {
    const found = this.find(ref);
    if (found === undefined || found.origin === 'internal') {
      throw new KmsError('NotFoundException', `Key '${ref}' does not exist`);
    }
    const next = await this.tables.transaction(() => {
      const current = this.live(this.tables.keys.get(found.id));
      if (current === undefined) {
        throw new KmsError('NotFoundException', `Key '${ref}' does not exist`);
      }
      const changed = update(current);
      this.tables.keys.put(current.id, changed);
      return changed;
    });
    await this.tables.flushed();
    return viewOf(next);
  }
}

const INTERNAL_DESCRIPTION = 'SSE-S3 (AES256) data keys';
const DEFAULT_DESCRIPTION = 'Default key for S3 (aws/s3)';

/** What a key creation stored: the key asked for, or the refusal a customer key gets. */
function checkCreated(
  stored: KmsKeyRecord | null,
  id: string,
  origin: KmsKeyOrigin,
  alias: string | undefined,
): KmsKeyRecord {
  if (stored === null) {
    throw new KmsError('LimitExceededException', `at most ${LIMITS.kmsKeysMax} keys`);
  }
  if (origin === 'customer' && stored.id !== id) {
    throw new KmsError('LimitExceededException', `alias/${alias} is taken`);
  }
  return stored;
}

/** KMS refuses to change a key pending deletion (other than cancelling the deletion). */
function refusePending(record: KmsKeyRecord): void {
  if (record.deletionMs !== undefined) {
    throw new KmsError('KMSInvalidStateException', `Key '${record.id}' is pending deletion.`);
  }
}
