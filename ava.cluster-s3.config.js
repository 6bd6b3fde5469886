// `npm run test:cluster-s3`: "one suite, two backends". The S3 test files below, unchanged, with
// every test server a gateway of a fresh cluster (HANGAR_TEST_BACKEND=cluster, see
// test/helpers/cluster-backend.ts) on the one-machine topology that tools/cluster/with-topology.sh
// starts around this run (HANGAR_TEST_CLUSTER_DIR). The files exercise core S3 through the AWS SDK,
// boto3, awscli and rclone: object CRUD, listing, multipart, versioning, copy, delete-objects,
// tagging, checksums, signatures, restores, authorization (ACLs, policies, public access,
// identities), POST uploads, S3 Select, torrents, the HTTP edge's refusals, SSE-KMS and bucket
// encryption, object lock, notification targets, inventory configuration and the website
// endpoint.

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
  'test/clients/awscli.test.ts',
  'test/clients/boto3.test.ts',
  'test/clients/rclone.test.ts',
];

/**
 * The test/s3 files that stay embedded-only, and why: each reads or breaks what only an embedded
 * server has (its data directory, LMDB, block files, fsck, scrub, local metrics, a kill -9 of the
 * one process that holds the data), configures the server through its own config file or
 * environment in ways a cluster gateway does not take yet, or needs a peer the cluster run does
 * not start. test/tools/cluster-s3-lists.test.ts checks that every test/s3 file is in exactly one
 * of the two lists, so a new file must be placed.
 */
export const EMBEDDED_ONLY = {
  'test/s3/access-logs.test.ts': 'log spool in the data directory, delivery worker state',
  'test/s3/conditional-writes.test.ts':
    "fsck of the data directory and the shards' session metrics (the cross-gateway If-None-Match race is test/cluster/s3-cluster.test.ts)",
  'test/s3/cors.test.ts': 'drives chromium; no storage path of its own',
  'test/s3/encryption-requests.test.ts': 'server environment and restarts',
  'test/s3/inventory-parquet.test.ts': 'inventory worker',
  'test/s3/inventory-report.test.ts': 'inventory worker',
  'test/s3/inventory-schedule.test.ts': 'inventory worker clock, server environment',
  'test/s3/lifecycle-transitions-config.test.ts': 'storage tiers of the data directory',
  'test/s3/lifecycle-transitions.test.ts': 'storage tiers (local directories)',
  'test/s3/lifecycle.test.ts': 'lifecycle worker clock and data-directory state',
  'test/s3/multipart-blocks.test.ts': 'block files in the data directory',
  'test/s3/notifications.test.ts': 'outbox in LMDB, NATS peer, restarts',
  'test/s3/objects-get-messages.test.ts': 'local metrics of shard messages',
  'test/s3/replication-attempts.test.ts': 'replication worker and a peer',
  'test/s3/replication-ceph.test.ts': 'Ceph RGW peer on port 6789',
  'test/s3/replication-class.test.ts': 'replication worker and a peer',
  'test/s3/replication-config.test.ts': 'replication worker and a peer',
  'test/s3/replication-destination.test.ts': 'replication worker and a peer',
  'test/s3/replication-hangar.test.ts': 'two embedded servers replicating',
  'test/s3/replication-metadata.test.ts': 'replication worker and a peer',
  'test/s3/replication-options.test.ts': 'replication worker and a peer',
  'test/s3/replication-version-ids.test.ts': 'replication worker and a peer',
  'test/s3/sse-c.test.ts': 'fsck of the data directory',
  'test/s3/sse-dsse.test.ts': 'KMS keyring files in the data directory',
  'test/s3/sse-kms-keys.test.ts': 'KMS keyring files in the data directory',
  'test/s3/sse-master-env.test.ts': 'master key files and environment across restarts',
  'test/s3/sse-s3.test.ts': 'master key file in the data directory',
  'test/s3/sse-tamper.test.ts': 'tampers with block files in the data directory',
  'test/s3/storage-class.test.ts': 'storage tiers (local directories)',
  'test/s3/target-coverage.test.ts': 'metrics of the local server',
  'test/s3/tls.test.ts': 'TLS files in the server config',
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
