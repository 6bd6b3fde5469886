import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { REGION, ROOT_ACCESS_KEY, ROOT_SECRET_KEY } from './server.js';

/**
 * The environment of a boto3 script run by a test: the root key, and an AWS config isolated in
 * `work` so that nothing on the machine (~/.aws) changes what the script does.
 */
export function boto3Env(work: string): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    // A script importing its neighbour (boto3_client) leaves no __pycache__ in the tree.
    PYTHONDONTWRITEBYTECODE: '1',
    // pyenv shims need HOME / PYENV_ROOT to find the interpreter that has boto3.
    ...(process.env['PYENV_ROOT'] ? { PYENV_ROOT: process.env['PYENV_ROOT'] } : {}),
    HOME: process.env['HOME'] ?? work,
    AWS_CONFIG_FILE: join(work, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-credentials'),
    AWS_ACCESS_KEY_ID: ROOT_ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: ROOT_SECRET_KEY,
    AWS_DEFAULT_REGION: REGION,
  };
}

/**
 * Runs a boto3 script (`python3 <args>`, e.g. ['-c', SCRIPT, ...] or [file, ...]) and returns its
 * whole output and the first line that starts with `{`, parsed (`{}` when there is none: the
 * test's assertions then fail with the output as their message).
 */
export function runBoto3(
  args: readonly string[],
  work: string,
  timeoutMs = 60_000,
): Promise<{ output: string; json: Record<string, unknown> }> {
  return new Promise((resolve) => {
    execFile(
      'python3',
      [...args],
      { env: boto3Env(work), maxBuffer: 1024 * 1024, timeout: timeoutMs },
      (_error, out, err) => {
        const output = `${out}\n${err}`;
        const line = out.split('\n').find((l) => l.startsWith('{')) ?? '{}';
        resolve({ output, json: JSON.parse(line) as Record<string, unknown> });
      },
    );
  });
}
