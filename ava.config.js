export default {
  // test/cluster starts databases and daemons: npm run test:cluster (ava.cluster.config.js);
  // test/cluster-core boots the cluster topology: npm run test:cluster-core.
  files: ['dist/test/**/*.test.js', '!dist/test/cluster/**', '!dist/test/cluster-core/**'],
  timeout: '3m',
  concurrency: 2,
  workerThreads: false,
};
