import { EventEmitter } from 'node:events';
import type { Etcd3, Lease, Namespace, Watcher } from 'etcd3';
import { LIMITS } from '../limits.js';
import { clusterNamespace, KEYS } from './keys.js';
import type { Membership } from './membership.js';
import { memberName } from './validate.js';

/**
 * Elections for singleton background work (lifecycle, notifications, replication, orphan-gc),
 * by name, on the gateway's MEMBERSHIP lease (the standard etcd recipe): each candidate puts
 * elections/<name>/<lease id> on its lease; the candidate whose key has the lowest create
 * revision leads. A candidate's key dies with its lease, so a gateway cut off from etcd loses
 * every leadership at the moment it loses the right to write (isLeader() consults the same
 * guard), and the next candidate takes over once etcd expires the lease.
 */

/**
 * The background jobs that run on one gateway at a time: they work on the cluster's shared
 * metadata (every gateway sees every partition), so two gateways running one would do its work
 * twice (deliver an event twice, expire an object twice). Work on a gateway's own files (scrub,
 * drain, access-log spools) is not here: each gateway does its own.
 */
export const SINGLETON_JOBS = [
  'lifecycle',
  'notifications',
  'replication',
  'orphan-gc',
  'restore',
  'inventory',
] as const;

export type SingletonJob = (typeof SINGLETON_JOBS)[number];

interface Candidacy {
  readonly name: string;
  /** The candidacy key under the cluster prefix, null while not registered. */
  key: string | null;
  leading: boolean;
  watcher: Watcher | null;
}

export interface ElectionEvents {
  leadership: [name: string, leading: boolean];
}

export class Elections extends EventEmitter<ElectionEvents> {
  private readonly kv: Namespace;
  private readonly candidacies = new Map<string, Candidacy>();
  private closed = false;

  constructor(
    client: Etcd3,
    clusterName: string,
    private readonly membership: Membership,
  ) {
    super();
    this.kv = clusterNamespace(client, clusterName);
    membership.on('registered', (lease) => {
      for (const candidacy of this.candidacies.values()) void this.enter(candidacy, lease);
    });
    membership.on('writable', (writable) => {
      if (!writable)
        for (const candidacy of this.candidacies.values()) this.setLeading(candidacy, false);
    });
    membership.on('leaseLost', () => {
      for (const candidacy of this.candidacies.values()) candidacy.key = null;
    });
  }

  /** Starts campaigning for `name` (idempotent); 'leadership' events tell the outcome. */
  async campaign(name: string): Promise<void> {
    memberName(name, 'election name');
    if (this.candidacies.has(name) || this.closed) return;
    const candidacy: Candidacy = { name, key: null, leading: false, watcher: null };
    this.candidacies.set(name, candidacy);
    candidacy.watcher = await this.kv.watch().prefix(KEYS.election(name)).create();
    candidacy.watcher.on('delete', () => void this.evaluate(candidacy));
    candidacy.watcher.on('put', () => void this.evaluate(candidacy));
    const lease = this.membership.lease();
    if (lease !== null) await this.enter(candidacy, lease);
  }

  /** True while this gateway leads `name` AND may still write (its lease is surely alive). */
  isLeader(name: string): boolean {
    return this.candidacies.get(name)?.leading === true && this.membership.canWrite();
  }

  /** Stops campaigning for `name`; a leader hands over at once (its key is deleted). */
  async resign(name: string): Promise<void> {
    const candidacy = this.candidacies.get(name);
    if (candidacy === undefined) return;
    this.candidacies.delete(name);
    this.setLeading(candidacy, false);
    await candidacy.watcher?.cancel();
    if (candidacy.key !== null) await this.kv.delete().key(candidacy.key);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.candidacies.keys()].map((name) => this.resign(name)));
  }

  /** Puts this gateway's candidacy key on `lease` (kept if it exists) and looks who leads. */
  private async enter(candidacy: Candidacy, lease: Lease): Promise<void> {
    try {
      const leaseId = await lease.grant();
      const key = `${KEYS.election(candidacy.name)}${leaseId}`;
      await this.kv
        .if(key, 'Create', '==', 0)
        .then(this.kv.put(key).value(this.membership.member.name).lease(leaseId))
        .commit();
      if (!this.candidacies.has(candidacy.name)) {
        await this.kv.delete().key(key);
        return;
      }
      candidacy.key = key;
      await this.evaluate(candidacy);
    } catch {
      // etcd unreachable: the membership re-registers and calls enter() again with a new lease.
    }
  }

  /** Leads iff this gateway's key is the oldest candidacy under the election's prefix. */
  private async evaluate(candidacy: Candidacy): Promise<void> {
    const key = candidacy.key;
    if (key === null) return this.setLeading(candidacy, false);
    try {
      const response = await this.kv
        .getAll()
        .prefix(KEYS.election(candidacy.name))
        .sort('Create', 'Ascend')
        .limit(1)
        .exec();
      const oldest = response.kvs[0]?.key.toString();
      this.setLeading(candidacy, oldest === key && candidacy.key === key);
    } catch {
      // Unknown: keep the current state; the lease guard in isLeader() still applies.
    }
  }

  private setLeading(candidacy: Candidacy, leading: boolean): void {
    if (candidacy.leading === leading) return;
    candidacy.leading = leading;
    this.emit('leadership', candidacy.name, leading);
  }
}

/** Every election's current leader (member name), for `hangar cluster status`. */
export async function electionLeaders(
  client: Etcd3,
  clusterName: string,
): Promise<Map<string, string>> {
  const response = await clusterNamespace(client, clusterName)
    .getAll()
    .prefix(KEYS.electionsPrefix)
    .sort('Create', 'Ascend')
    .limit(LIMITS.clusterListKeysMax)
    .exec();
  const leaders = new Map<string, string>();
  for (const kv of response.kvs) {
    const name = kv.key.toString().slice(KEYS.electionsPrefix.length).split('/')[0] ?? '';
    if (!leaders.has(name)) leaders.set(name, kv.value.toString('utf8').slice(0, 128));
  }
  return leaders;
}
