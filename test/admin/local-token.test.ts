import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { ADMIN_TOKEN, TestServer } from '../helpers/server.js';

// No admin token anywhere but where a test puts one: the runner's environment must not supply it.
delete process.env['HANGAR_ADMIN_TOKEN'];

function tokenFile(dataDir: string): string {
  return join(dataDir, 'admin.token');
}

/** The ListKeys answer to `token` from the admin API at `base`. */
async function listKeys(base: string, token: string): Promise<{ status: number; message: string }> {
  const response = await fetch(`${base}/v2/ListKeys`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  let message = '';
  try {
    message = String((JSON.parse(text) as { message?: unknown }).message ?? '');
  } catch {
    // a success is a JSON array, an error a JSON object; neither matters past the status here
  }
  return { status: response.status, message };
}

/**
 * An address of this machine that is not loopback, so that a connection to it has a
 * non-loopback peer address. None (a machine with loopback alone) fails the test: 127.0.0.2 would
 * still be loopback, and the refusal would go untested.
 */
function nonLoopbackAddress(): string | null {
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (!entry.internal && entry.family === 'IPv4') return entry.address;
    }
  }
  return null;
}

test.serial(
  'no admin token configured: the CLI works locally with the generated one',
  async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hangar-local-token-'));
    try {
      let server = await TestServer.start({ dataDir, adminToken: null });
      let token: string;
      try {
        const mode = statSync(tokenFile(dataDir)).mode & 0o777;
        t.is(mode.toString(8), '600');
        token = readFileSync(tokenFile(dataDir), 'utf8').trim();
        // 32 random bytes in base64url.
        t.regex(token, /^[A-Za-z0-9_-]{43}$/);

        const created = await server.cli('key', 'create', 'ci-cache', '--json');
        t.is(created.code, 0, created.stderr);
        const key = JSON.parse(created.stdout) as { accessKeyId: string; secretAccessKey: string };
        const bucket = await server.cli('bucket', 'create', 'builds');
        t.is(bucket.code, 0, bucket.stderr);
        const allowed = await server.cli(
          'bucket',
          'allow',
          '--read',
          '--write',
          'builds',
          '--key',
          'ci-cache',
        );
        t.is(allowed.code, 0, allowed.stderr);
        t.regex(allowed.stdout, new RegExp(`key ${key.accessKeyId} on bucket builds: read,write`));
        // The grant is real: the new key writes and reads.
        const client = server.client(key);
        await client.send(new PutObjectCommand({ Bucket: 'builds', Key: 'a', Body: 'hello' }));
        const got = await client.send(new GetObjectCommand({ Bucket: 'builds', Key: 'a' }));
        t.is(await got.Body?.transformToString(), 'hello');
      } finally {
        await server.stop();
      }

      // A restart reuses the token: a CLI or script that read it keeps working.
      server = await TestServer.start({ dataDir, adminToken: null });
      try {
        t.is(readFileSync(tokenFile(dataDir), 'utf8').trim(), token);
        t.is((statSync(tokenFile(dataDir)).mode & 0o777).toString(8), '600');
        const listed = await server.cli('key', 'list', '--json');
        t.is(listed.code, 0, listed.stderr);
        t.true(
          (JSON.parse(listed.stdout) as Array<{ name: string }>).some((k) => k.name === 'ci-cache'),
        );
        t.is((await listKeys(server.adminEndpoint, token)).status, 200);
        const wrong = await listKeys(server.adminEndpoint, 'not-the-generated-token');
        t.is(wrong.status, 403);
        t.regex(wrong.message, /Invalid authorization token/);
      } finally {
        await server.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);

test.serial(
  'the generated token is refused from the network; a configured one is not',
  async (t) => {
    const address = nonLoopbackAddress();
    if (address === null) {
      t.fail('this machine has no non-loopback IPv4 address: the network refusal cannot be tested');
      return;
    }
    const dataDir = mkdtempSync(join(tmpdir(), 'hangar-local-token-'));
    const adminHost = ['--admin-host', address];
    try {
      let server = await TestServer.start({ dataDir, adminToken: null, args: adminHost });
      try {
        const token = readFileSync(tokenFile(dataDir), 'utf8').trim();
        const base = `http://${address}:${server.adminPort}`;
        for (const given of [token, 'not-the-generated-token']) {
          // The right token and a wrong one get the same answer: the network learns nothing.
          const refused = await listKeys(base, given);
          t.is(refused.status, 403);
          t.regex(refused.message, /answers only the local CLI.*HANGAR_ADMIN_TOKEN/);
        }
        const metrics = await fetch(`${base}/metrics`, {
          headers: { authorization: `Bearer ${token}` },
        });
        t.is(metrics.status, 403);
        await metrics.arrayBuffer();
        const health = await fetch(`${base}/health`);
        t.is(health.status, 200);
        await health.arrayBuffer();
        // The CLI on this machine, sent to that address by admin.json, says what to do.
        const cli = await server.cli('key', 'list');
        t.is(cli.code, 2);
        t.regex(cli.stderr, /answers only the local CLI/);
      } finally {
        await server.stop();
      }

      // A configured token works from the same address, and the generated one is gone.
      server = await TestServer.start({ dataDir, adminToken: ADMIN_TOKEN, args: adminHost });
      try {
        const base = `http://${address}:${server.adminPort}`;
        t.is((await listKeys(base, ADMIN_TOKEN)).status, 200);
        t.throws(() => statSync(tokenFile(dataDir)), { code: 'ENOENT' });
      } finally {
        await server.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);
