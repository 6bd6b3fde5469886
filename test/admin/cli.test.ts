import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { ROOT_ACCESS_KEY, runCli, TestServer } from '../helpers/server.js';

// One server for the whole file, in steps: through the API while it runs, then directly.
test.serial(
  'the CLI goes through the admin API while a server runs, and to the files after',
  async (t) => {
    const server = await TestServer.start({ shards: 2 });
    try {
      const adminFile = join(server.dataDir, 'admin.json');
      t.true(existsSync(adminFile));
      t.deepEqual(JSON.parse(readFileSync(adminFile, 'utf8')), {
        endpoint: server.adminEndpoint,
        pid: server.process.pid,
      });

      const ok = async (...args: string[]): Promise<string> => {
        const run = await server.cli(...args);
        t.is(run.code, 0, `hangar ${args.join(' ')}: ${run.stderr}`);
        return run.stdout;
      };
      // biome-ignore lint/suspicious/noExplicitAny: JSON output is inspected field by field
      const json = async (...args: string[]): Promise<any> =>
        JSON.parse(await ok(...args, '--json'));

      // Through the API: a wrong token fails with the API's 403 message (exit 2), none is refused
      // before any request (exit 2), and the server's own token works.
      const wrong = await server.cli('key', 'list', '--admin-token', 'not-the-token');
      t.is(wrong.code, 2);
      t.regex(wrong.stderr, /Invalid authorization token \(HTTP 403\)/);
      const none = await runCli(['--data-dir', server.dataDir, 'bucket', 'list']);
      t.is(none.code, 2);
      t.regex(
        none.stderr,
        /is running .*give the admin token with --admin-token or HANGAR_ADMIN_TOKEN/,
      );

      const key = await json('key', 'create', 'app', '--allow-create-bucket');
      t.like(key, { name: 'app', allowCreateBucket: true, root: false });
      t.is(typeof key.secretAccessKey, 'string');
      t.is(key.created, new Date(key.createdMs).toISOString());
      t.deepEqual(Object.keys(key).sort(), [
        'accessKeyId',
        'allowCreateBucket',
        'created',
        'createdMs',
        'name',
        'root',
        'secretAccessKey',
      ]);
      const imported = await json(
        'key',
        'import',
        'HKIMPORTED00001',
        'imported-secret-123',
        '--name',
        'imp',
        '--allow-create-bucket',
      );
      t.like(imported, {
        accessKeyId: 'HKIMPORTED00001',
        secretAccessKey: 'imported-secret-123',
        name: 'imp',
        allowCreateBucket: true,
      });

      const bucket = await json('bucket', 'create', 'cli-api-bucket');
      t.like(bucket, { name: 'cli-api-bucket', location: '' });
      t.deepEqual(Object.keys(bucket).sort(), ['created', 'createdMs', 'id', 'location', 'name']);
      const invalid = await server.cli('bucket', 'create', 'Bad_Name');
      t.is(invalid.code, 2);
      await ok('bucket', 'create', 'cli-api-empty');

      t.deepEqual(
        await json(
          'bucket',
          'allow',
          'cli-api-bucket',
          '--key',
          key.accessKeyId,
          '--read',
          '--write',
        ),
        {
          bucket: 'cli-api-bucket',
          accessKeyId: key.accessKeyId,
          read: true,
          write: true,
          owner: false,
        },
      );
      t.deepEqual(
        await json('bucket', 'deny', 'cli-api-bucket', '--key', key.accessKeyId, '--write'),
        {
          bucket: 'cli-api-bucket',
          accessKeyId: key.accessKeyId,
          read: true,
          write: false,
          owner: false,
        },
      );
      t.regex(
        await ok('bucket', 'allow', 'cli-api-bucket', '--key', imported.accessKeyId, '--owner'),
        /key HKIMPORTED00001 on bucket cli-api-bucket: owner/,
      );
      const noFlags = await server.cli(
        'bucket',
        'allow',
        'cli-api-bucket',
        '--key',
        key.accessKeyId,
      );
      t.is(noFlags.code, 2);

      await server
        .client()
        .send(new PutObjectCommand({ Bucket: 'cli-api-bucket', Key: 'a', Body: 'hello' }));
      const info = await json('bucket', 'info', 'cli-api-bucket');
      t.like(info, { name: 'cli-api-bucket', id: bucket.id, objects: 1, bytes: 5 });
      t.is(info.grants.length, 2);
      t.regex(await ok('bucket', 'info', 'cli-api-bucket'), /KEY ID\s+NAME\s+READ\s+WRITE\s+OWNER/);
      const notEmpty = await server.cli('bucket', 'delete', 'cli-api-bucket');
      t.is(notEmpty.code, 1);
      t.regex(notEmpty.stderr, /bucket cli-api-bucket is not empty \(1 objects\)/);
      const missing = await server.cli('bucket', 'info', 'no-such-bucket');
      t.is(missing.code, 1);
      t.regex(missing.stderr, /not found \(HTTP 404\)/);

      const keyInfo = await json('key', 'info', key.accessKeyId);
      t.deepEqual(keyInfo.grants, [
        { bucket: 'cli-api-bucket', bucketId: bucket.id, read: true, write: false, owner: false },
      ]);
      t.is(keyInfo.secretAccessKey, undefined);
      t.is(
        (await json('key', 'info', key.accessKeyId, '--show-secret')).secretAccessKey,
        key.secretAccessKey,
      );
      t.regex(await ok('key', 'list'), /KEY ID\s+NAME\s+CREATED\s+CREATE BUCKETS\s+ROOT/);
      t.regex(await ok('bucket', 'list'), /NAME\s+ID\s+CREATED\s+LOCATION/);

      const empty = (await json('bucket', 'list')).find(
        (b: { name: string }) => b.name === 'cli-api-empty',
      );
      t.deepEqual(await json('bucket', 'delete', 'cli-api-empty'), {
        deleted: 'cli-api-empty',
        id: empty.id,
      });
      t.is((await server.cli('bucket', 'info', 'cli-api-empty')).code, 1);

      // What the API mode printed, to compare with the direct mode once the server is gone.
      const viaApi = {
        keys: await json('key', 'list'),
        buckets: await json('bucket', 'list'),
        bucketInfo: await json('bucket', 'info', 'cli-api-bucket'),
        keyInfo: await json('key', 'info', key.accessKeyId),
      };
      t.true(
        viaApi.keys.some(
          (k: { accessKeyId: string; root: boolean }) =>
            k.accessKeyId === ROOT_ACCESS_KEY && k.root,
        ),
      );

      // fsck stays direct (read-only) even while the server runs, and needs no token.
      const fsck = await runCli(['--data-dir', server.dataDir, 'fsck', '--json']);
      t.is(fsck.code, 0, fsck.stderr);

      await server.stop();
      t.false(existsSync(adminFile), 'a clean stop removes admin.json');

      // Directly on the files now: no token needed, the same JSON.
      const direct = async (...args: string[]): Promise<unknown> => {
        const run = await runCli(['--data-dir', server.dataDir, ...args, '--json']);
        t.is(run.code, 0, run.stderr);
        return JSON.parse(run.stdout);
      };
      t.deepEqual(await direct('key', 'list'), viaApi.keys);
      t.deepEqual(await direct('bucket', 'list'), viaApi.buckets);
      t.deepEqual(await direct('bucket', 'info', 'cli-api-bucket'), viaApi.bucketInfo);
      t.deepEqual(await direct('key', 'info', key.accessKeyId), viaApi.keyInfo);
      t.like(await direct('key', 'delete', 'HKIMPORTED00001'), { deleted: 'HKIMPORTED00001' });

      // A stale admin.json (its pid is dead, e.g. after a crash) is ignored.
      const dead = spawnSync(process.execPath, ['-e', '0']).pid;
      writeFileSync(adminFile, JSON.stringify({ endpoint: 'http://127.0.0.1:1', pid: dead }));
      t.like(await direct('bucket', 'info', 'cli-api-bucket'), { objects: 1 });

      // A live pid whose endpoint does not answer: a clear error, not a silent write to the files.
      writeFileSync(
        adminFile,
        JSON.stringify({ endpoint: 'http://127.0.0.1:1', pid: process.pid }),
      );
      const unreachable = await runCli(['--data-dir', server.dataDir, 'key', 'list'], {
        HANGAR_ADMIN_TOKEN: 'some-admin-token',
      });
      t.is(unreachable.code, 1);
      t.regex(unreachable.stderr, /cannot reach the admin API .*remove its admin.json/);
    } finally {
      await server.destroy();
    }
  },
);
