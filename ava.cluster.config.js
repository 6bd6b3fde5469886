// Cluster mode's tests (issue 19): they start etcd, PostgreSQL and Ceph daemons of their own.
export default {
  files: ['dist/test/cluster/**/*.test.js'],
  timeout: '5m',
  concurrency: 1,
  workerThreads: false,
};
