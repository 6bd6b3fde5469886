export default {
  // test/cluster boots real etcd / PostgreSQL / Ceph daemons: `npm run test:cluster` runs it.
  files: ['dist/test/**/*.test.js', '!dist/test/cluster/**'],
  timeout: '3m',
  concurrency: 2,
  workerThreads: false,
};
