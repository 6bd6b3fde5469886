export default {
  // test/cluster starts databases and daemons: npm run test:cluster (ava.cluster.config.js).
  files: ['dist/test/**/*.test.js', '!dist/test/cluster/**'],
  timeout: '3m',
  concurrency: 2,
  workerThreads: false,
};
