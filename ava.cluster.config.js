export default {
  files: ['dist/test/cluster/**/*.test.js'],
  timeout: '5m',
  concurrency: 1,
  workerThreads: false,
};
