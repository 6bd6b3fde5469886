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
