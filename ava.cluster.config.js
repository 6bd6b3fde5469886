// `npm run test:cluster`: the tests that boot the one-machine cluster topology
// (tools/cluster/local-cluster.sh: etcd, PostgreSQL + Patroni, Ceph). They share one topology
// per file, kill its daemons on purpose, and take minutes, so they run one at a time, apart from
// the main suite.
export default {
  files: ['dist/test/cluster/**/*.test.js'],
  // Above LocalCluster's own start bound (10 min), so that one fails first, with the logs.
  timeout: '15m',
  concurrency: 1,
  serial: true,
  workerThreads: false,
};
