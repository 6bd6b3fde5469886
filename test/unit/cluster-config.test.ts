import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { parseClusterSection, shardSpecOfFlag } from '../../engine/cluster/config.js';
import { layoutOf } from '../../engine/cluster/layout.js';
import { ClusterValueError } from '../../engine/cluster/validate.js';
import { ConfigError, loadConfig } from '../../engine/config.js';

/** The `[cluster]` section and the layout decoder, without etcd (test/cluster has the rest). */

const SECTION = {
  name: 'main',
  etcd_endpoints: ['127.0.0.1:2379', 'http://10.0.0.2:2379'],
  gateway_name: 'n1',
  s3_endpoint: 'http://10.0.0.1:3900',
  ceph_conf: 'ceph/ceph.conf',
  block_pool: 'hangar.blocks',
  metadata_shards: [{ database: 'hangar', targets: ['10.0.0.1:5432', '[::1]:5433'] }],
};

test('a [cluster] section parses, relative ceph_conf resolved against the file', (t) => {
  const cluster = parseClusterSection(SECTION, '/etc/hangar');
  t.deepEqual(cluster, {
    name: 'main',
    etcdEndpoints: ['127.0.0.1:2379', 'http://10.0.0.2:2379'],
    gatewayName: 'n1',
    s3Endpoint: 'http://10.0.0.1:3900',
    metadataShards: [{ database: 'hangar', targets: ['10.0.0.1:5432', '[::1]:5433'] }],
    cephConf: '/etc/hangar/ceph/ceph.conf',
    blockPool: 'hangar.blocks',
    pgUser: 'hangar',
    pgPasswordFile: null,
  });
  const minimal = parseClusterSection({ name: 'c', etcd_endpoints: ['e:1'] }, '/');
  t.is(minimal.gatewayName, null);
  t.deepEqual(minimal.metadataShards, []);
});

test('pg_user and pg_password_file: a role name, a path resolved against the file', (t) => {
  const cluster = parseClusterSection(
    { ...SECTION, pg_user: 'gateway_1', pg_password_file: 'secrets/pg' },
    '/etc/hangar',
  );
  t.is(cluster.pgUser, 'gateway_1');
  t.is(cluster.pgPasswordFile, '/etc/hangar/secrets/pg');
  t.is(
    parseClusterSection({ ...SECTION, pg_password_file: '/run/pw' }, '/x').pgPasswordFile,
    '/run/pw',
  );
  for (const [raw, message] of [
    [{ ...SECTION, pg_user: 'Hangar' }, /cluster\.pg_user must be a role name/],
    [{ ...SECTION, pg_user: 'a;drop' }, /cluster\.pg_user must be a role name/],
    [{ ...SECTION, pg_user: 7 }, /cluster\.pg_user must be a role name/],
    [{ ...SECTION, pg_password_file: 3 }, /cluster\.pg_password_file/],
  ] as const) {
    t.throws(() => parseClusterSection(raw, '/'), { instanceOf: ClusterValueError, message });
  }
});

test('a bad [cluster] value names its key', (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ ...SECTION, name: 'Has/Slash' }, /cluster\.name must be a cluster name/],
    [{ ...SECTION, etcd_endpoints: [] }, /etcd_endpoints: none given/],
    [{ ...SECTION, etcd_endpoints: ['nope'] }, /etcd_endpoints\[0\] must be host:port/],
    [{ ...SECTION, etcd_endpoints: ['h:70000'] }, /port 1\.\.65535/],
    [{ ...SECTION, s3_endpoint: 'ftp://x' }, /s3_endpoint must be an http/],
    [{ ...SECTION, extra: 1 }, /unknown field 'extra'/],
    [{ ...SECTION, metadata_shards: [{ database: 'x y', targets: ['h:1'] }] }, /database must be/],
    [{ ...SECTION, metadata_shards: [{ database: 'x', targets: [] }] }, /at least one host:port/],
    [
      { ...SECTION, metadata_shards: [{ database: 'x', targets: Array(17).fill('h:1') }] },
      /more than 16/,
    ],
  ];
  for (const [raw, message] of cases) {
    t.throws(() => parseClusterSection(raw, '/'), { instanceOf: ClusterValueError, message });
  }
});

test('--shard database@host:port,host:port', (t) => {
  t.deepEqual(shardSpecOfFlag('hangar@a:1,b:2'), { database: 'hangar', targets: ['a:1', 'b:2'] });
  t.throws(() => shardSpecOfFlag('a:1'), { message: /database@host:port/ });
});

test('hangar.toml: [cluster] loads into config.cluster; absent, it is null', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-cluster-config-'));
  try {
    const file = join(dir, 'hangar.toml');
    writeFileSync(file, '[cluster]\nname = "main"\netcd_endpoints = ["127.0.0.1:2379"]\n');
    const config = loadConfig({ file, env: {}, flags: {}, cwd: dir });
    t.is(config.cluster?.name, 'main');
    t.is(loadConfig({ env: {}, flags: {}, cwd: dir + '/nowhere' }).cluster, null);
    writeFileSync(file, '[cluster]\nname = "main"\n');
    t.throws(() => loadConfig({ file, env: {}, flags: {}, cwd: dir }), {
      instanceOf: ConfigError,
      message: /cluster\.etcd_endpoints must be a list/,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('layoutOf refuses what it does not know', (t) => {
  const good = {
    layoutVersion: 1,
    clusterId: '8e8d4c92-978c-40bb-bb1e-1d7bca7b2d66',
    name: 'main',
    createdMs: 1,
    metadataShards: [{ id: 0, database: 'hangar', targets: ['h:1'] }],
    blockPool: { cephConf: '/etc/ceph/ceph.conf', pool: 'p' },
  };
  t.is(layoutOf(good).metadataShards[0]?.id, 0);
  t.throws(() => layoutOf({ ...good, layoutVersion: 2 }), { message: /layoutVersion is 2/ });
  t.throws(() => layoutOf({ ...good, metadataShards: [{ ...good.metadataShards[0], id: 3 }] }), {
    message: /metadataShards\[0\]\.id must be an integer 0\.\.0/,
  });
  t.throws(() => layoutOf({ ...good, blockPool: { cephConf: 'rel', pool: 'p' } }), {
    message: /cephConf must be an absolute path/,
  });
  t.throws(() => layoutOf(null), { message: /layout must be an object/ });
});
