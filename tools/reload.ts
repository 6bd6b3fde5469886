import type { HangarConfig } from '../engine/config.js';
import { type Logger, setLogLevel } from '../engine/log.js';

/** What SIGHUP acts on in a running server. */
export interface Reloadable {
  readonly logger: Logger;
  /** Rereads the configuration from this process's sources (file, environment, flags). */
  readonly load: () => HangarConfig;
  /** Serves the certificate and key files anew; null when the server speaks plain HTTP. */
  readonly reloadTls: (() => void) | null;
}

/** The settings SIGHUP applies in place; every other change waits for a restart. */
const RELOADABLE = new Set(['logLevel']);

/**
 * SIGHUP rereads the configuration: a new log level applies at once (in every thread), the TLS
 * files are reread when TLS is on, and one line names every other changed setting, which only
 * a restart applies. A configuration that no longer loads changes nothing and says why.
 */
export function reloadOnSighup(running: HangarConfig, target: Reloadable): void {
  let applied = running;
  process.on('SIGHUP', () => {
    applied = reload(applied, target);
  });
}

/** One SIGHUP; returns the configuration now in effect. */
function reload(applied: HangarConfig, target: Reloadable): HangarConfig {
  const { logger } = target;
  let fresh: HangarConfig;
  try {
    fresh = target.load();
  } catch (error) {
    logger.error(
      { err: error },
      `SIGHUP: the configuration does not load, nothing changed: ${(error as Error).message}`,
    );
    target.reloadTls?.();
    return applied;
  }
  if (fresh.logLevel !== applied.logLevel) setLogLevel(logger, fresh.logLevel);
  const now = { ...applied, logLevel: fresh.logLevel };
  target.reloadTls?.();
  const restart = changedSettings(applied, fresh).filter((name) => !RELOADABLE.has(name));
  if (restart.length === 0) {
    logger.info({ logLevel: now.logLevel }, 'SIGHUP: configuration reloaded');
  } else {
    logger.warn(
      { logLevel: now.logLevel, needRestart: restart },
      `SIGHUP: configuration reloaded; these changes need a restart: ${restart.join(', ')}`,
    );
  }
  return now;
}

/**
 * The dotted names (as in the "starting hangar" line: s3.port, logFormat) of the settings
 * whose values differ. Compares the raw values, so a changed secret is named too, never shown.
 */
export function changedSettings(before: HangarConfig, after: HangarConfig): string[] {
  const a = flatten(before as unknown as Record<string, unknown>);
  const b = flatten(after as unknown as Record<string, unknown>);
  const names = new Set([...a.keys(), ...b.keys()]);
  return [...names].filter((name) => a.get(name) !== b.get(name)).sort();
}

/** Leaf values by dotted name, each as JSON (arrays compare by content). */
function flatten(value: Record<string, unknown>, prefix = ''): Map<string, string> {
  const leaves = new Map<string, string>();
  for (const [key, child] of Object.entries(value)) {
    const name = prefix + key;
    if (typeof child === 'object' && child !== null && !Array.isArray(child)) {
      for (const [k, v] of flatten(child as Record<string, unknown>, `${name}.`)) leaves.set(k, v);
    } else {
      leaves.set(name, JSON.stringify(child) ?? 'undefined');
    }
  }
  return leaves;
}
