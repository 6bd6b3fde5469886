export default {
  files: ['dist/test/**/*.test.js'],
  timeout: '3m',
  concurrency: 2,
  workerThreads: false,
};
