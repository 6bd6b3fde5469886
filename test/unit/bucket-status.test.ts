import test from 'ava';
import {
  type Acl,
  ALL_PUBLIC_ACCESS_BLOCKED,
  ALL_USERS_URI,
  AUTHENTICATED_USERS_URI,
  type BucketAccess,
} from '../../engine/catalog/access.js';
import { publicityOf } from '../../http/access/bucket-status.js';

/** The public verdict an operator sees for a bucket's ACL, under each setting that limits it. */

const OWNER = 'a'.repeat(64);
const NOTHING_BLOCKED = {
  blockPublicAcls: false,
  ignorePublicAcls: false,
  blockPublicPolicy: false,
  restrictPublicBuckets: false,
};

function aclGranting(uri: typeof ALL_USERS_URI | typeof AUTHENTICATED_USERS_URI): Acl {
  return {
    owner: OWNER,
    grants: [
      { grantee: { type: 'CanonicalUser', id: OWNER }, permission: 'FULL_CONTROL' },
      { grantee: { type: 'Group', uri }, permission: 'READ' },
    ],
  };
}

test('a bucket with no access record is not public, and object ACLs may still be', (t) => {
  const verdict = publicityOf({});
  t.false(verdict.public);
  t.false(verdict.aclPublic);
  t.false(verdict.policyPublic);
  t.regex(verdict.publicReason, /neither the bucket policy nor the bucket ACL is public/);
  t.regex(verdict.publicReason, /objects' own ACLs may still make single objects public/);
});

test('a public bucket ACL makes the bucket public only while ACLs apply', (t) => {
  for (const uri of [ALL_USERS_URI, AUTHENTICATED_USERS_URI] as const) {
    const acl = aclGranting(uri);
    const open = publicityOf({
      ownership: 'ObjectWriter',
      acl,
      publicAccessBlock: NOTHING_BLOCKED,
    });
    t.true(open.public, uri);
    t.true(open.aclPublic);
    t.regex(open.publicReason, /bucket ACL grants access to AllUsers or AuthenticatedUsers/);

    const enforced: BucketAccess = { ownership: 'BucketOwnerEnforced', acl };
    const off = publicityOf(enforced);
    t.false(off.public);
    t.true(off.aclPublic);
    t.regex(off.publicReason, /ACLs are disabled \(BucketOwnerEnforced\)/);
    t.notRegex(off.publicReason, /objects' own ACLs/);

    const ignored = publicityOf({
      ownership: 'BucketOwnerPreferred',
      acl,
      publicAccessBlock: ALL_PUBLIC_ACCESS_BLOCKED,
    });
    t.false(ignored.public);
    t.regex(ignored.publicReason, /IgnorePublicAcls ignores it/);
  }
});

test('grants to single keys are not public', (t) => {
  const acl: Acl = {
    owner: OWNER,
    grants: [{ grantee: { type: 'CanonicalUser', id: 'b'.repeat(64) }, permission: 'READ' }],
  };
  const verdict = publicityOf({ ownership: 'ObjectWriter', acl });
  t.false(verdict.aclPublic);
  t.false(verdict.public);
});
