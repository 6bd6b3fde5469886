// `npm run test:cluster-s3`: "one suite, two backends". The S3 test files below, unchanged, with
// every test server a gateway of a fresh cluster (HANGAR_TEST_BACKEND=cluster, see
// test/helpers/cluster-backend.ts) on the one-machine topology that tools/cluster/with-topology.sh
// starts around this run (HANGAR_TEST_CLUSTER_DIR). Every test/s3 file but two, and the client
// files (AWS SDK, boto3, awscli, rclone): a test that looks at what is stored (fsck, stored
// plaintext) looks at the cluster's PostgreSQL rows and RADOS objects (test/helpers/fsck.ts,
// plaintext.ts, cluster-engines.ts); workers that run on one node (lifecycle, notifications,
// replication, inventory) run on the test cluster's one gateway, its leader.

/** Source paths (test/...), compiled to dist/test/... */
export const CLUSTER_S3_FILES = [
  'test/s3/smoke.test.ts',
  'test/s3/buckets.test.ts',
  'test/s3/objects.test.ts',
  'test/s3/objects-get.test.ts',
  'test/s3/list.test.ts',
  'test/s3/list-shards.test.ts',
  'test/s3/multipart.test.ts',
  'test/s3/versioning.test.ts',
  'test/s3/copy-delete.test.ts',
  'test/s3/tagging.test.ts',
  'test/s3/checksums.test.ts',
  'test/s3/signatures.test.ts',
  'test/s3/restore.test.ts',
  'test/s3/bucket-encryption.test.ts',
  'test/s3/inventory-config.test.ts',
  'test/s3/notify-targets.test.ts',
  'test/s3/object-lock.test.ts',
  'test/s3/sse-kms.test.ts',
  'test/s3/website.test.ts',
  'test/s3/access-checks.test.ts',
  'test/s3/acl-public.test.ts',
  'test/s3/acl.test.ts',
  'test/s3/auth-owner.test.ts',
  'test/s3/auth.test.ts',
  'test/s3/bucket-policy.test.ts',
  'test/s3/decision-table.test.ts',
  'test/s3/header-safety.test.ts',
  'test/s3/identities.test.ts',
  'test/s3/owners-acl.test.ts',
  'test/s3/post-object-limits.test.ts',
  'test/s3/post-object.test.ts',
  'test/s3/public-access.test.ts',
  'test/s3/select-formats.test.ts',
  'test/s3/select.test.ts',
  'test/s3/signed-body.test.ts',
  'test/s3/torrent.test.ts',
  'test/s3/xml-declarations.test.ts',
  'test/s3/acl-writes.test.ts',
  'test/s3/bucket-configs.test.ts',
  'test/s3/access-logs.test.ts',
  'test/s3/conditional-writes.test.ts',
  'test/s3/cors.test.ts',
  'test/s3/encryption-requests.test.ts',
  'test/s3/inventory-parquet.test.ts',
  'test/s3/inventory-report.test.ts',
  'test/s3/inventory-schedule.test.ts',
  'test/s3/lifecycle-transitions-config.test.ts',
  'test/s3/lifecycle-transitions.test.ts',
  'test/s3/lifecycle.test.ts',
  'test/s3/multipart-blocks.test.ts',
  'test/s3/notifications.test.ts',
  'test/s3/replication-attempts.test.ts',
  'test/s3/replication-ceph.test.ts',
  'test/s3/replication-class.test.ts',
  'test/s3/replication-config.test.ts',
  'test/s3/replication-destination.test.ts',
  'test/s3/replication-hangar.test.ts',
  'test/s3/replication-metadata.test.ts',
  'test/s3/replication-options.test.ts',
  'test/s3/replication-version-ids.test.ts',
  'test/s3/sse-c.test.ts',
  'test/s3/sse-dsse.test.ts',
  'test/s3/sse-kms-keys.test.ts',
  'test/s3/sse-master-env.test.ts',
  'test/s3/sse-s3.test.ts',
  'test/s3/storage-class.test.ts',
  'test/s3/target-coverage.test.ts',
  'test/s3/tls.test.ts',
  'test/clients/awscli.test.ts',
  'test/clients/boto3.test.ts',
  'test/clients/rclone.test.ts',
];

/**
 * The test/s3 files that stay embedded-only, and why: each tests what only an embedded server
 * has. test/unit/cluster-s3-lists.test.ts checks that every test/s3 file is in exactly one of
 * the two lists, so a new file must be placed.
 */
export const EMBEDDED_ONLY = {
  'test/s3/objects-get-messages.test.ts':
    "counts the shards' messages per request: a cluster gateway has no edge fast path for HEAD and inline GET (they go to the shard)",
  'test/s3/sse-tamper.test.ts':
    'forges ciphertext in block files on disk (on a cluster gateway a RADOS object that changes fails its SHA-256 check before any decryption: test/cluster/rados-blocks.test.ts)',
};

export default {
  files: CLUSTER_S3_FILES.map((file) =>
    file.replace(/^test\//, 'dist/test/').replace(/\.ts$/, '.js'),
  ),
  environmentVariables: { HANGAR_TEST_BACKEND: 'cluster' },
  timeout: '5m',
  // Every test server inits a cluster and joins the one topology: two files at a time.
  concurrency: 2,
  workerThreads: false,
};
