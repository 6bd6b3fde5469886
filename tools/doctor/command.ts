import type { Command } from 'commander';
import type { HangarConfig } from '../../engine/config.js';
import type { Logger } from '../../engine/log.js';
import { table } from '../../http/admin/text-table.js';
import type { CliParts } from '../maintenance.js';
import type { Output } from '../output.js';
import { runChecks } from './checks.js';
import { type CheckResult, problemLine } from './result.js';

/**
 * `hangar doctor`: checks the machine and the data directory and says what to fix. Exit 0 when
 * every check is ok or only warns, 1 when one fails (2: usage). The server runs the same checks
 * before it starts (startupChecks).
 */
export function registerDoctor(program: Command, cli: CliParts): void {
  cli
    .leaf(program, 'doctor', 'check the machine and the data directory; say what to fix')
    .action((_opts: unknown, command: Command) =>
      cli.run(command, (config) => {
        const checks = runChecks(config.dataDir);
        if (checks.some((c) => c.status === 'fail')) process.exitCode = 1;
        return Promise.resolve(doctorOutput(checks));
      }),
    );
}

function doctorOutput(checks: readonly CheckResult[]): Output {
  const problems = checks.filter((c) => c.status !== 'ok').map(problemLine);
  return {
    json: { ok: checks.every((c) => c.status !== 'fail'), checks },
    human: [
      table(
        ['CHECK', 'STATUS', 'FOUND'],
        checks.map((c) => [c.name, c.status === 'fail' ? 'FAIL' : c.status, c.found]),
      ),
      ...(problems.length === 0 ? [] : ['', 'To fix:', ...problems.map((p) => `  ${p}`)]),
    ].join('\n'),
  };
}

/**
 * The doctor's checks before the server starts: warnings are logged and it starts; a failure is
 * written to stderr in the doctor's words and the caller refuses to start (false).
 */
export function startupChecks(config: HangarConfig, logger: Logger): boolean {
  const checks = runChecks(config.dataDir);
  for (const check of checks.filter((c) => c.status === 'warn')) {
    logger.warn({ check }, problemLine(check));
  }
  const failed = checks.filter((c) => c.status === 'fail');
  for (const check of failed) process.stderr.write(`hangar: ${problemLine(check)}\n`);
  if (failed.length > 0) {
    process.stderr.write('hangar: refusing to start; `hangar doctor` runs the same checks\n');
  }
  return failed.length === 0;
}
