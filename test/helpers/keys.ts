import type { TestServer } from './server.js';

/** A key made through the CLI (the admin API of a running server). */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export type Permission = 'read' | 'write' | 'owner';

/** Runs `hangar ... --json` against the server and parses its output. */
export async function cliJson(server: TestServer, ...args: string[]): Promise<unknown> {
  const { code, stdout, stderr } = await server.cli(...args, '--json');
  if (code !== 0) throw new Error(`hangar ${args.join(' ')} exited ${code}: ${stderr}`);
  return JSON.parse(stdout) as unknown;
}

export async function createKey(
  server: TestServer,
  name: string,
  allowCreateBucket = false,
): Promise<Credentials> {
  const created = (await cliJson(
    server,
    'key',
    'create',
    name,
    ...(allowCreateBucket ? ['--allow-create-bucket'] : []),
  )) as Record<string, unknown>;
  if (typeof created.accessKeyId !== 'string' || typeof created.secretAccessKey !== 'string') {
    throw new Error(`unexpected key JSON: ${JSON.stringify(created)}`);
  }
  return { accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey };
}

/** Gives `key` hangar's read / write / owner grants on `bucket`. */
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
