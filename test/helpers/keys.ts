import type { TestServer } from './server.js';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export type Permission = 'read' | 'write' | 'owner';

/** Runs `hangar ... --json` against the server (through its admin API) and parses the output. */
async function cliJson(server: TestServer, ...args: string[]): Promise<unknown> {
  const { code, stdout, stderr } = await server.cli(...args, '--json');
  if (code !== 0) throw new Error(`hangar ${args.join(' ')} exited ${code}: ${stderr}`);
  return JSON.parse(stdout) as unknown;
}

/** A new key with no grant (`hangar key create`). */
export async function createKey(server: TestServer, name: string): Promise<Credentials> {
  const created = (await cliJson(server, 'key', 'create', name)) as Record<string, unknown>;
  if (typeof created.accessKeyId !== 'string' || typeof created.secretAccessKey !== 'string') {
    throw new Error(`unexpected key JSON: ${JSON.stringify(created)}`);
  }
  return { accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey };
}

/** Grants `permissions` on `bucket` to `key` (`hangar bucket allow`). */
export async function grant(
  server: TestServer,
  bucket: string,
  key: Credentials,
  ...permissions: Permission[]
): Promise<void> {
  await cliJson(
    server,
    'bucket',
    'allow',
    bucket,
    '--key',
    key.accessKeyId,
    ...permissions.map((p) => `--${p}`),
  );
}
