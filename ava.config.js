export default {
  // test/cluster needs the cluster's daemons: `npm run test:cluster` runs it (ava.cluster.config.js).
  files: ['dist/test/**/*.test.js', '!dist/test/cluster/**'],
  timeout: '3m',
  concurrency: 2,
  workerThreads: false,
};
