import { LIMITS } from '../limits.js';
import type { KvEnv, KvTable } from '../meta/kv.js';

/**
 * A replication remote: an S3 endpoint the operator registered (hangar, Ceph RGW, AWS alike),
 * the credentials hangar signs with there, and the destination buckets it serves. A rule's
 * destination `arn:aws:s3:::<bucket>` resolves to the remote that lists `<bucket>`. The secret is
 * stored like the keys' secrets, in the owner-only catalog, and never shown by the admin API.
 */
export interface RemoteRecord {
  readonly name: string;
  /** http(s)://host[:port], path-style requests. */
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Destination bucket names, each served by one remote only. */
  readonly buckets: readonly string[];
  readonly createdMs: number;
}

export class RemoteError extends Error {
  constructor(
    readonly reason: 'NoSuchRemote' | 'RemoteExists' | 'BucketServed' | 'TooManyRemotes',
    message: string,
  ) {
    super(message);
  }
}

/** The catalog's `remotes` table: name → RemoteRecord. */
export class RemoteTable {
  constructor(
    private readonly env: KvEnv,
    private readonly rows: KvTable<RemoteRecord, string>,
  ) {}

  list(): RemoteRecord[] {
    return [...this.rows.getRange().map(({ value }) => value)];
  }

  get(name: string): RemoteRecord | undefined {
    return this.rows.get(name);
  }

  /** Whether any remote is registered (O(1): the table's entry count). */
  any(): boolean {
    return this.count() > 0;
  }

  /** The remote serving a destination bucket, if any. */
  serving(bucket: string): RemoteRecord | undefined {
    return this.list().find((remote) => remote.buckets.includes(bucket));
  }

  /** Adds a remote, or replaces the one of the same name (`replace`). */
  async put(record: RemoteRecord, replace: boolean): Promise<void> {
    const outcome = await this.env.transaction((): RemoteError | null => {
      const existing = this.rows.get(record.name);
      if (existing !== undefined && !replace) {
        return new RemoteError('RemoteExists', `remote ${record.name} already exists`);
      }
      if (existing === undefined && this.count() >= LIMITS.replicationRemotesMax) {
        return new RemoteError('TooManyRemotes', `at most ${LIMITS.replicationRemotesMax} remotes`);
      }
      for (const other of this.list()) {
        if (other.name === record.name) continue;
        const shared = record.buckets.find((bucket) => other.buckets.includes(bucket));
        if (shared !== undefined) {
          return new RemoteError(
            'BucketServed',
            `bucket ${shared} is already served by remote ${other.name}`,
          );
        }
      }
      this.rows.put(record.name, record);
      return null;
    });
    if (outcome !== null) throw outcome;
  }

  async remove(name: string): Promise<void> {
    const removed = await this.env.transaction(() => {
      if (this.rows.get(name) === undefined) return false;
      this.rows.remove(name);
      return true;
    });
    if (!removed) throw new RemoteError('NoSuchRemote', `remote ${name} not found`);
  }

  private count(): number {
    return (this.rows.getStats() as { entryCount: number }).entryCount;
  }
}
