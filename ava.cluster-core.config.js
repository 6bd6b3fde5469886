// `npm run test:cluster-core`: the cluster-mode core subset (test/cluster-core/), designed to take
// under 90 s with the topology's boot: boot, one byte-identical read-back across gateways, one
// PostgreSQL failover. It boots the one-machine topology on its fixed ports: one file at a time,
// never beside npm run test:cluster.
export default {
  files: ['dist/test/cluster-core/**/*.test.js'],
  // Above LocalCluster's own start bound (10 min), so that one fails first, with the logs.
  timeout: '15m',
  concurrency: 1,
  serial: true,
  workerThreads: false,
};
