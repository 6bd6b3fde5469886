import { createRequire } from 'node:module';
import { BroadcastChannel } from 'node:worker_threads';
import { type DestinationStream, pino } from 'pino';
import type { prettyFactory as PrettyFactory } from 'pino-pretty';
import type { LogFormat, LogLevel } from './config.js';

export type Logger = pino.Logger;

/** How every thread of the process logs: `auto` already decided (structured-clonable). */
export interface LogSettings {
  readonly level: LogLevel;
  readonly format: 'json' | 'pretty';
  /** ANSI colours in pretty lines: only when stdout is a terminal. */
  readonly colorize: boolean;
}

/** `auto` is human lines on a terminal, JSON for anything else (a pipe, a file, journald). */
export function resolveLogSettings(level: LogLevel, format: LogFormat): LogSettings {
  const tty = process.stdout.isTTY === true;
  const resolved = format === 'auto' ? (tty ? 'pretty' : 'json') : format;
  return { level, format: resolved, colorize: resolved === 'pretty' && tty };
}

/** The process's settings as last set in the main thread (a restarted shard thread takes them). */
let current: LogSettings = { level: 'info', format: 'json', colorize: false };

export function currentLogSettings(): LogSettings {
  return current;
}

/**
 * One event per line on stdout: a JSON object, or a human line (time, level, message, fields).
 * Both write synchronously from the calling thread (no transport thread, no stream pipeline),
 * so the last lines before a crash or process.exit are never lost in a buffer.
 */
export function createLogger(settings: LogSettings): Logger {
  current = settings;
  return pino(
    {
      level: settings.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination(settings),
  );
}

function destination(settings: LogSettings): DestinationStream {
  const out = pino.destination({ dest: 1, sync: true });
  if (settings.format === 'json') return out;
  // Loaded only for human lines: every thread of every process (server, edge, shard, CLI) loads
  // this module, and most of them log JSON.
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as {
    prettyFactory: typeof PrettyFactory;
  };
  const pretty = prettyFactory({
    colorize: settings.colorize,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
  return { write: (line: string) => out.write(pretty(line)) };
}

/** Carries log level changes from the main thread to the shard threads. */
const LEVEL_CHANNEL = 'hangar:log-level';

/** Changes the level of this thread's `logger` and of every thread that follows the level. */
export function setLogLevel(logger: Logger, level: LogLevel): void {
  logger.level = level;
  current = { ...current, level };
  const channel = new BroadcastChannel(LEVEL_CHANNEL);
  channel.postMessage(level);
  channel.close();
}

/**
 * Makes `logger` (in a shard thread) take the level setLogLevel sets, and says so at debug. The
 * channel does not keep the thread alive.
 */
export function followLogLevel(logger: Logger): void {
  const channel = new BroadcastChannel(LEVEL_CHANNEL);
  channel.onmessage = (event: unknown) => {
    const level = (event as { data: LogLevel }).data;
    logger.level = level;
    logger.debug({ logLevel: level }, 'log level changed');
  };
  channel.unref();
}
