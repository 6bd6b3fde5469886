import { RemoteError, type RemoteRecord } from '../../../engine/catalog/remotes.js';
import type { AdminReply, AdminRequest, AdminState } from '../context.js';
import { AdminError, badRequest } from '../errors.js';
import { body, optionalBoolean, optionalString, queryParam, string } from '../validate.js';

/**
 * Bucket replication's remotes (engine/catalog/remotes.ts) through the admin API: hangar's own
 * endpoints (Garage has no replication), so that PutBucketReplication's destination ARNs resolve
 * to an S3 endpoint and credentials the operator chose. Secrets go in, never out.
 */

/** A remote as the admin API (and the CLI) shows it: never its secret. */
export interface RemoteJson {
  name: string;
  endpoint: string;
  region: string;
  accessKeyId: string;
  buckets: string[];
  created: string;
}

export function remoteJson(remote: RemoteRecord): RemoteJson {
  return {
    name: remote.name,
    endpoint: remote.endpoint,
    region: remote.region,
    accessKeyId: remote.accessKeyId,
    buckets: [...remote.buckets],
    created: new Date(remote.createdMs).toISOString(),
  };
}

const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const BUCKETS_MAX = 100;

async function remotes<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RemoteError) {
      throw error.reason === 'NoSuchRemote'
        ? new AdminError(404, 'NoSuchRemote', error.message)
        : new AdminError(409, error.reason, error.message);
    }
    throw error;
  }
}

export function listRemotes(state: AdminState): AdminReply {
  return { json: state.server.catalog.remotes.list().map(remoteJson) };
}

/** GetRemoteInfo?name=<name>. */
export function getRemoteInfo(state: AdminState, req: AdminRequest): AdminReply {
  const name = queryParam(req.query, 'name');
  const remote = state.server.catalog.remotes.get(name);
  if (remote === undefined) throw new AdminError(404, 'NoSuchRemote', `remote ${name} not found`);
  return { json: remoteJson(remote) };
}

/**
 * AddRemote {name, endpoint, region?, accessKeyId, secretAccessKey, buckets, replace?}: the
 * endpoint serves the destination buckets named (each by one remote only).
 */
export async function addRemote(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  const { record, replace } = remoteFromBody(req.body);
  await remotes(() => state.server.catalog.remotes.put(record, replace));
  state.replicationAdded?.();
  return { json: remoteJson(record) };
}

/** AddRemote's body, validated (the CLI's offline `remote add` uses it too). */
export function remoteFromBody(value: unknown): { record: RemoteRecord; replace: boolean } {
  const b = body(value, [
    'name',
    'endpoint',
    'region',
    'accessKeyId',
    'secretAccessKey',
    'buckets',
    'replace',
  ]);
  const name = string(b, 'name');
  if (!NAME_PATTERN.test(name)) throw badRequest('body.name must be 1-64 of A-Z a-z 0-9 _ . -');
  const endpoint = endpointOf(string(b, 'endpoint'));
  const region = optionalString(b, 'region') ?? 'us-east-1';
  if (!/^[a-z0-9-]{1,64}$/.test(region)) throw badRequest('body.region must be a region name');
  const accessKeyId = string(b, 'accessKeyId');
  const secretAccessKey = string(b, 'secretAccessKey');
  if (accessKeyId.length < 1 || accessKeyId.length > 128 || secretAccessKey.length > 256) {
    throw badRequest('body.accessKeyId and body.secretAccessKey must be 1-128 / 0-256 characters');
  }
  const record: RemoteRecord = {
    name,
    endpoint,
    region,
    accessKeyId,
    secretAccessKey,
    buckets: bucketsOf(b['buckets']),
    createdMs: Date.now(),
  };
  return { record, replace: optionalBoolean(b, 'replace') ?? false };
}

/** RemoveRemote {name}: rules naming its buckets FAIL from then on (until one serves them). */
export async function removeRemote(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  const name = string(body(req.body, ['name']), 'name');
  await remotes(() => state.server.catalog.remotes.remove(name));
  return { json: {} };
}

function endpointOf(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badRequest('body.endpoint must be an http(s) URL');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '') {
    throw badRequest('body.endpoint must be an http(s) URL without credentials');
  }
  if (url.pathname !== '/' || url.search !== '') {
    throw badRequest('body.endpoint must have no path (requests are path-style)');
  }
  return `${url.protocol}//${url.host}`;
}

function bucketsOf(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > BUCKETS_MAX) {
    throw badRequest(`body.buckets must be a list of 1 to ${BUCKETS_MAX} bucket names`);
  }
  return value.map((bucket) => {
    const name = typeof bucket === 'string' ? bucket.replace(/^arn:aws:s3:::/, '') : String(bucket);
    if (typeof bucket !== 'string' || !BUCKET_PATTERN.test(name)) {
      throw badRequest(`body.buckets: ${name} is not a bucket name or arn:aws:s3:::<name>`);
    }
    return name;
  });
}
