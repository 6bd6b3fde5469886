import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { Etcd3, Lease, Namespace } from 'etcd3';
import { LIMITS } from '../limits.js';
import { clusterNamespace, KEYS } from './keys.js';
import { httpUrl, integer, memberName, milliseconds, onlyKeys, record } from './validate.js';

/**
 * A gateway's membership: a member key under /hangar/<cluster>/members/<name>, attached to a
 * lease the gateway keeps alive. It is also the split-brain guard (cluster-design.md §4.5):
 * `canWrite()` is true only while the lease is known to be alive on etcd's side, judged from
 * the SEND time of the last acknowledged renewal plus the TTL etcd granted. A gateway cut off
 * from etcd therefore stops accepting writes before etcd expires its lease (and before the
 * elections it held can pass to another gateway). When etcd answers again the gateway either
 * resumes the old lease (if it is still alive) or registers anew with a fresh one.
 */

export interface MemberInfo {
  readonly name: string;
  /** The S3 URL clients may use for this gateway. */
  readonly s3Endpoint: string;
}

export interface MemberRecord extends MemberInfo {
  readonly hostname: string;
  readonly pid: number;
  readonly registeredMs: number;
}

export function memberRecordOf(raw: unknown): MemberRecord {
  const table = record(raw, 'member');
  onlyKeys(table, ['name', 's3Endpoint', 'hostname', 'pid', 'registeredMs'], 'member');
  const host = table['hostname'];
  return {
    name: memberName(table['name'], 'member.name'),
    s3Endpoint: httpUrl(table['s3Endpoint'], 'member.s3Endpoint'),
    hostname: typeof host === 'string' ? host.slice(0, 255) : '',
    pid: integer(table['pid'], 'member.pid', 0, 2 ** 31),
    registeredMs: milliseconds(table['registeredMs'], 'member.registeredMs'),
  };
}

export interface MembershipEvents {
  /** canWrite() changed. */
  writable: [writable: boolean];
  /** A new lease carries the member key (first registration, or after a lost lease). */
  registered: [lease: Lease];
  /** The lease is given up as lost: keys on it are (or will soon be) gone. */
  leaseLost: [reason: string];
}

export class Membership extends EventEmitter<MembershipEvents> {
  private readonly kv: Namespace;
  private readonly ttlS: number;
  private current: Lease | null = null;
  /** Until when the current lease is surely alive on etcd (epoch ms); 0 = no lease. */
  private validUntilMs = 0;
  /** Send times of keepalives not yet answered, oldest first (answers come in order). */
  private pendingKeepalives: number[] = [];
  private lastWritable = false;
  private watchdog: NodeJS.Timeout | null = null;
  private reregistering = false;
  private stopped = false;

  constructor(
    private readonly client: Etcd3,
    readonly clusterName: string,
    readonly member: MemberInfo,
    options: { ttlS?: number } = {},
  ) {
    super();
    this.kv = clusterNamespace(client, clusterName);
    this.ttlS = options.ttlS ?? LIMITS.clusterLeaseTtlS;
  }

  /** Registers; rejects if etcd cannot be reached within one call deadline. */
  async start(): Promise<void> {
    await this.register();
    // A check several times per TTL turns the clock-based guard into events and notices a
    // silent etcd (stopped, partitioned) without waiting for the client library's own timeouts.
    const everyMs = Math.max(50, Math.min(250, (this.ttlS * 1000) / 10));
    this.watchdog = setInterval(() => this.check(), everyMs);
    this.watchdog.unref();
    this.check();
  }

  /** The split-brain guard: false when this gateway cannot prove its lease is alive. */
  canWrite(): boolean {
    return !this.stopped && this.current !== null && Date.now() < this.validUntilMs;
  }

  /** Until when canWrite() holds without another renewal (epoch ms); 0 when it is false now. */
  writableUntilMs(): number {
    return this.canWrite() ? this.validUntilMs : 0;
  }

  /** The live lease, for keys that must vanish with this gateway (election candidacies). */
  lease(): Lease | null {
    return this.canWrite() ? this.current : null;
  }

  /** Deregisters: revokes the lease, which deletes the member key and any candidacy. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.watchdog !== null) clearInterval(this.watchdog);
    const lease = this.current;
    this.current = null;
    this.validUntilMs = 0;
    this.check();
    if (lease !== null) await lease.revoke().catch(() => lease.release());
  }

  private async register(): Promise<void> {
    const requestedMs = Date.now();
    const lease = this.client.lease(this.ttlS);
    lease.on('lost', () => this.onLost(lease, 'etcd reports the lease lost'));
    try {
      await lease.grant();
      const value: MemberRecord = {
        ...this.member,
        hostname: hostname(),
        pid: process.pid,
        registeredMs: Date.now(),
      };
      await this.kv
        .put(KEYS.member(this.member.name))
        .value(JSON.stringify(value))
        .lease(await lease.grant());
    } catch (error) {
      lease.release();
      throw error;
    }
    if (this.stopped) {
      await lease.revoke().catch(() => undefined);
      return;
    }
    this.adopt(lease, requestedMs);
  }

  private adopt(lease: Lease, requestedMs: number): void {
    this.current = lease;
    this.pendingKeepalives = [];
    this.validUntilMs = requestedMs + this.ttlS * 1000;
    lease.on('keepaliveEstablished', () => {
      this.pendingKeepalives = [];
    });
    lease.on('keepaliveFired', () => {
      this.pendingKeepalives.push(Date.now());
    });
    lease.on('keepaliveSucceeded', (response) => {
      const sentMs = this.pendingKeepalives.shift();
      if (lease !== this.current || sentMs === undefined) return;
      this.validUntilMs = Math.max(this.validUntilMs, sentMs + Number(response.TTL) * 1000);
      this.check();
    });
    this.emit('registered', lease);
    this.check();
  }

  /** Emits writability changes; a lease past its validity is given up and replaced. */
  private check(): void {
    const writable = this.canWrite();
    if (writable !== this.lastWritable) {
      this.lastWritable = writable;
      this.emit('writable', writable);
    }
    const lease = this.current;
    if (lease !== null && !writable && !this.stopped) {
      this.onLost(lease, 'no renewal acknowledged within the lease TTL');
    }
  }

  private onLost(lease: Lease, reason: string): void {
    if (lease !== this.current) return;
    this.current = null;
    this.validUntilMs = 0;
    // Stop renewing it: if etcd still holds it, it expires there on its own.
    lease.release();
    this.check();
    this.emit('leaseLost', reason);
    void this.reregister();
  }

  /** Tries to register with a fresh lease until it succeeds or the membership stops. */
  private async reregister(): Promise<void> {
    if (this.reregistering) return;
    this.reregistering = true;
    try {
      while (!this.stopped && this.current === null) {
        try {
          await this.register();
        } catch {
          await new Promise((resolve) => setTimeout(resolve, LIMITS.clusterReregisterDelayMs));
        }
      }
    } finally {
      this.reregistering = false;
    }
  }
}

/** Live members (their keys exist only while their leases do), by name. */
export async function listMembers(client: Etcd3, clusterName: string): Promise<MemberRecord[]> {
  const kv = clusterNamespace(client, clusterName);
  const response = await kv
    .getAll()
    .prefix(KEYS.membersPrefix)
    .limit(LIMITS.clusterListKeysMax)
    .exec();
  return response.kvs.map((entry) => {
    try {
      return memberRecordOf(JSON.parse(entry.value.toString('utf8')));
    } catch (error) {
      throw new ClusterMemberError(
        `etcd key ${entry.key.toString()}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  });
}

export class ClusterMemberError extends Error {
  override name = 'ClusterMemberError';
}

/** The default member name: the host name, made a valid key segment. */
export function defaultMemberName(): string {
  const cleaned = hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '');
  return cleaned === '' ? 'gateway' : cleaned.slice(0, 128);
}
