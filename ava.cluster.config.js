// `npm run test:cluster`: the cluster-mode tests (test/cluster/), apart from the main suite. The
// PostgreSQL KV and etcd tests start their own daemons; the topology tests boot the one-machine
// cluster (tools/cluster/local-cluster.sh: etcd, PostgreSQL + Patroni, Ceph), kill its daemons on
// purpose and take minutes. Fixed ports: one file at a time.
export default {
  files: ['dist/test/cluster/**/*.test.js'],
  // Above LocalCluster's own start bound (10 min), so that one fails first, with the logs.
  timeout: '15m',
  concurrency: 1,
  serial: true,
  workerThreads: false,
};
