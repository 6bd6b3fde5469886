/**
 * The price of the one authorization decision (http/access/decide.ts) on the fast path: a
 * request by a key with a grant, on a bucket without ACL grants or a policy. What it does now:
 * the bucket, its access record, the principal and the decision. Reference: what authorization
 * did before ACLs and policies existed, the bucket and the key's grant (two catalog reads).
 * A second task prices a bucket with a one-statement policy (the decision evaluates it).
 */
import { Catalog } from '../../engine/catalog/catalog.js';
import type { RequestFacts } from '../../http/access/facts.js';
import { principalOf } from '../../http/access/principal.js';
import { authorize } from '../../http/s3/auth.js';
import type { ServerState } from '../../http/s3/context.js';
import type { RoutedRequest } from '../../http/s3/router.js';
import {
  check,
  type MicroOptions,
  type MicroResult,
  newBench,
  REF_PREFIX,
  runGroup,
  withTempDir,
} from './harness.js';

function getObject(bucket: string): RoutedRequest {
  const key = 'photos/2024/05/IMG_0042.jpg';
  return {
    bucket,
    key,
    style: 'path',
    query: new Map(),
    endpoint: { action: 'GetObject', bucket, key, responseOverrides: {} },
  };
}

const FACTS: RequestFacts = {
  sourceIp: () => '127.0.0.1',
  secureTransport: false,
  nowMs: Date.now(),
  signatureVersion: 'AWS4-HMAC-SHA256',
  authType: 'REST-HEADER',
  headers: {},
  query: new Map(),
};

export async function run(opts: MicroOptions): Promise<MicroResult[]> {
  return withTempDir(async (dir) => {
    const catalog = Catalog.open(dir);
    try {
      const key = await catalog.createKey('bench', { allowCreateBucket: true });
      const plain = await catalog.createBucket('plain', {
        location: '',
        ownerKey: key.accessKeyId,
      });
      const state = { catalog } as unknown as ServerState;
      const routed = getObject(plain.name);
      check(
        authorize(state, principalOf(key), routed, FACTS, {}).bucket?.id === plain.id,
        'allowed',
      );

      const bench = newBench('authorization', opts);
      const names = {
        now: 'decide a keyed GET: bucket, access record, principal, decision',
        ref: `${REF_PREFIX}before ACLs and policies: bucket + the key's grant`,
      };
      let sink = 0;
      bench.add(names.now, () => {
        const authorized = authorize(state, principalOf(key), routed, FACTS, {});
        sink += authorized.bucket === null ? 0 : 1;
      });
      bench.add(names.ref, () => {
        const bucket = catalog.getBucket(plain.name);
        if (bucket !== undefined && catalog.getGrant(bucket.id, key.accessKeyId).read) sink += 1;
      });
      const results = await runGroup('authorization', bench);
      check(sink > 0, 'the tasks ran');
      return results;
    } finally {
      await catalog.close();
    }
  });
}
