import { onNode } from './admin.js';
import { eventually } from './fsck.js';
import type { TestServer } from './server.js';

/** ListBlockErrors of the server's node. */
export async function blockErrors(server: TestServer): Promise<Array<Record<string, unknown>>> {
  const { status, node } = await onNode(server, 'GET', 'ListBlockErrors');
  if (status !== 200) throw new Error(`ListBlockErrors: ${status}`);
  return node as Array<Record<string, unknown>>;
}

/** Whether ListBlockErrors lists the block as corrupt. */
export async function listedCorrupt(server: TestServer, hash: string): Promise<boolean> {
  return (await blockErrors(server)).some((e) => e.blockHash === hash && e.kind === 'corrupt');
}

export async function workerVariable(server: TestServer, name: string): Promise<string> {
  const { node } = await onNode(server, 'POST', 'GetWorkerVariable', { variable: name });
  return (node as Record<string, string>)[name] ?? '';
}

/** Runs a whole scrub pass and waits for it to complete. */
export async function scrubNow(server: TestServer): Promise<void> {
  const before = await workerVariable(server, 'scrub-last-completed');
  const launched = await onNode(server, 'POST', 'LaunchRepairOperation', {
    repairType: { scrub: 'start' },
  });
  if (launched.status !== 200) throw new Error(launched.text);
  const done = await eventually(
    async () => (await workerVariable(server, 'scrub-last-completed')) !== before,
    20_000,
    100,
  );
  if (!done) throw new Error('scrub did not complete');
}
