export default {
  files: ['dist/test/**/*.test.js', '!dist/test/cluster/**'],
  timeout: '3m',
  concurrency: 2,
  workerThreads: false,
};
