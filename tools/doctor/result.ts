/** One check of `hangar doctor` (and of the server's start): what it found, and what to do. */
export interface CheckResult {
  /** Short and stable: scripts read it from --json. */
  readonly name: string;
  readonly status: 'ok' | 'warn' | 'fail';
  /** One line saying what was found. */
  readonly found: string;
  /** What to do about it; null when the check is ok. */
  readonly fix: string | null;
}

/**
 * The words for a warning or failure: `hangar doctor` prints them under its table, the server
 * logs them (warn) or refuses to start with them (fail), so both say the same thing.
 */
export function problemLine(check: CheckResult): string {
  return `${check.name} ${check.status}: ${check.found} — ${check.fix ?? 'nothing to do'}`;
}
