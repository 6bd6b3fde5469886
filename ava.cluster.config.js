// The cluster tests (test/cluster/): real etcd, PostgreSQL and Ceph processes on fixed ports,
// one file at a time. `npm run test:cluster`; the main `ava` run excludes them.
export default {
  files: ['dist/test/cluster/**/*.test.js'],
  timeout: '5m',
  concurrency: 1,
  workerThreads: false,
};
