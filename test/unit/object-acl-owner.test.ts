import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { Acl } from '../../engine/catalog/access.js';
import { MetaStore, type ObjectRecord } from '../../engine/meta/store.js';

const BUCKET = 'cd'.repeat(16);

function record(owner: string | undefined): ObjectRecord {
  return {
    bytes: 1,
    etag: '"x"',
    lastModifiedMs: Date.now(),
    headers: { userMeta: {} },
    checksum: null,
    blocks: [],
    inline: new Uint8Array([120]),
    ...(owner === undefined ? {} : { owner }),
  };
}

const aclFor = (owner: string): Acl => ({
  owner,
  grants: [{ grantee: { type: 'CanonicalUser', id: owner }, permission: 'READ' }],
});

/**
 * PutObjectAcl's guard, where the race is decided: the shard writes an ACL only onto a record
 * whose owner is still the one the ACL was built for, in the same transaction. An overwrite by
 * another owner in between (PutObjectAcl reads the owner, then writes) is a conflict, never an
 * ACL naming the previous owner on the new object.
 */
test('setAcl with an expected owner writes only while the record still has that owner', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-acl-owner-'));
  const meta = MetaStore.open(dir, false);
  try {
    await meta.writeObject(BUCKET, 'k', record(undefined), null);
    // Built for the bucket owner (no owner field), written while that still holds.
    const first = await meta.setAcl(BUCKET, 'k', aclFor('bucket-owner'), undefined, null);
    t.is(first.acl?.owner, 'bucket-owner');
    // Another owner's overwrite comes between the read and the write.
    await meta.writeObject(BUCKET, 'k', record('other-owner'), null);
    const conflict = await t.throwsAsync(
      meta.setAcl(BUCKET, 'k', aclFor('bucket-owner'), undefined, null),
    );
    t.like(conflict, { failure: { code: 'ConditionalRequestConflict' } });
    t.is(meta.getObject(BUCKET, 'k')?.acl, undefined, 'the new object kept its own ACL');
    // Read again: built for the new owner, it is written.
    const second = await meta.setAcl(BUCKET, 'k', aclFor('other-owner'), undefined, 'other-owner');
    t.is(second.owner, 'other-owner');
    t.is(second.acl?.owner, 'other-owner');
    // Without an expectation, nothing is compared.
    t.is((await meta.setAcl(BUCKET, 'k', null)).acl, undefined);
  } finally {
    await meta.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
