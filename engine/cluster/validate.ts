import { LIMITS } from '../limits.js';

/**
 * The checks every cluster value passes, whether it comes from an operator (`[cluster]`, CLI
 * flags) or from etcd (a layout another gateway wrote, or a corrupt one). Each check throws a
 * ClusterValueError naming `where` the value came from; callers rewrap it as their own error.
 */

export class ClusterValueError extends Error {
  override name = 'ClusterValueError';
}

function show(raw: unknown): string {
  const text = typeof raw === 'string' ? `'${raw}'` : JSON.stringify(raw);
  return text === undefined ? String(raw) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function bad(where: string, raw: unknown, expected: string): never {
  throw new ClusterValueError(`${where} must be ${expected}, not ${show(raw)}`);
}

export function isRecord(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw);
}

export function record(raw: unknown, where: string): Record<string, unknown> {
  if (!isRecord(raw)) bad(where, raw, 'an object');
  return raw;
}

/** Refuses keys a reader does not know: a value of another layout version must not half-load. */
export function onlyKeys(raw: Record<string, unknown>, keys: readonly string[], where: string) {
  const unknown = Object.keys(raw).find((key) => !keys.includes(key));
  if (unknown !== undefined) throw new ClusterValueError(`${where}: unknown field '${unknown}'`);
}

export function list(raw: unknown, where: string, max: number): unknown[] {
  if (!Array.isArray(raw)) bad(where, raw, 'a list');
  if (raw.length > max) throw new ClusterValueError(`${where}: more than ${max} entries`);
  return raw;
}

export function integer(raw: unknown, where: string, min: number, max: number): number {
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < min || raw > max) {
    bad(where, raw, `an integer ${min}..${max}`);
  }
  return raw;
}

function matching(raw: unknown, where: string, pattern: RegExp, expected: string): string {
  if (typeof raw !== 'string' || !pattern.test(raw)) bad(where, raw, expected);
  return raw;
}

/** A cluster name becomes an etcd key segment (/hangar/<name>/): no slashes, nothing odd. */
export function clusterName(raw: unknown, where: string): string {
  return matching(raw, where, /^[a-z0-9][a-z0-9_-]{0,62}$/, 'a cluster name ([a-z0-9_-], 1..63)');
}

/** A PostgreSQL role to log in as: a plain lower-case identifier (no quoting needed anywhere). */
export function roleName(raw: unknown, where: string): string {
  return matching(raw, where, /^[a-z_][a-z0-9_]{0,62}$/, 'a role name ([a-z0-9_], 1..63)');
}

/** A gateway or election name becomes a key segment too. */
export function memberName(raw: unknown, where: string): string {
  return matching(
    raw,
    where,
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
    'a name ([A-Za-z0-9._-], 1..128)',
  );
}

/** S3 bucket naming rules (the subset that matters for a key segment: no '/', bounded). */
export function bucketName(raw: unknown, where: string): string {
  return matching(raw, where, /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'a bucket name');
}

/** host:port, the host a DNS name, IPv4 address or [IPv6] literal. */
export function hostPort(raw: unknown, where: string): string {
  const value = matching(
    raw,
    where,
    /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\]):\d{1,5}$/,
    'host:port',
  );
  const port = Number(value.slice(value.lastIndexOf(':') + 1));
  if (port < 1 || port > 65535) bad(where, raw, 'host:port with a port 1..65535');
  return value;
}

/** An etcd endpoint: host:port or http(s)://host:port. */
export function etcdEndpoint(raw: unknown, where: string): string {
  if (typeof raw === 'string' && /^https?:\/\//.test(raw)) {
    hostPort(raw.replace(/^https?:\/\//, '').replace(/\/$/, ''), where);
    return raw;
  }
  return hostPort(raw, where);
}

/** An S3 endpoint a gateway advertises (what clients are pointed at). */
export function httpUrl(raw: unknown, where: string): string {
  const value = matching(raw, where, /^https?:\/\/[^\s/]{1,260}\/?$/, 'an http(s)://host:port URL');
  try {
    new URL(value);
  } catch {
    bad(where, raw, 'an http(s)://host:port URL');
  }
  return value;
}

/** A PostgreSQL database name (an identifier hangar will quote, but keep it plain). */
export function databaseName(raw: unknown, where: string): string {
  return matching(
    raw,
    where,
    /^[A-Za-z_][A-Za-z0-9_]{0,62}$/,
    'a database name ([A-Za-z0-9_], 1..63)',
  );
}

/** A Ceph pool name. */
export function poolName(raw: unknown, where: string): string {
  return matching(raw, where, /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'a pool name ([A-Za-z0-9._-])');
}

/** An absolute file path (the ceph.conf every gateway reads at the same place). */
export function absolutePath(raw: unknown, where: string): string {
  return matching(raw, where, /^\/[^\0]{0,4095}$/, 'an absolute path');
}

export function milliseconds(raw: unknown, where: string): number {
  return integer(raw, where, 0, 8.64e15);
}

export function targets(raw: unknown, where: string): string[] {
  const items = list(raw, where, LIMITS.clusterShardTargetsMax);
  if (items.length === 0) throw new ClusterValueError(`${where}: at least one host:port`);
  return items.map((item, i) => hostPort(item, `${where}[${i}]`));
}
