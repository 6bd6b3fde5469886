import { ADMIN_TOKEN, type TestServer } from './server.js';

export interface AdminAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers are inspected field by field
  json: any;
  text: string;
}

/** One admin API request with the test admin token (or `token`), its JSON answer parsed. */
export async function adminCall(
  server: TestServer,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  token: string | null = ADMIN_TOKEN,
): Promise<AdminAnswer> {
  const headers: Record<string, string> = {};
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${server.adminEndpoint}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, json, text };
}

/**
 * A node-local admin endpoint (`?node=self`): its answer for this node, unwrapped from Garage's
 * MultiResponse `{ success: { <node>: answer }, error: {} }`.
 */
export async function onNode(
  server: TestServer,
  method: 'GET' | 'POST',
  operation: string,
  body?: unknown,
): Promise<AdminAnswer & { node: unknown }> {
  const answer = await adminCall(server, method, `/v2/${operation}?node=self`, body);
  if (answer.status !== 200) return { ...answer, node: undefined };
  const nodes = Object.values(answer.json.success ?? {});
  if (nodes.length !== 1 || Object.keys(answer.json.error ?? {}).length !== 0) {
    throw new Error(`${operation}: not a one-node MultiResponse: ${answer.text}`);
  }
  return { ...answer, node: nodes[0] };
}
