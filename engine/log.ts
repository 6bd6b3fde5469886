import { pino } from 'pino';
import type { LogLevel } from './config.js';

export type Logger = pino.Logger;

/** JSON logs, one object per line, on stdout (or into `destination`: an edge thread's lines
 *  go to the main thread, which writes them into its own stream, see `writeLogLines`). */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  const options = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/** Writes JSON log lines made by another thread's logger into `logger`'s stream, as they are. */
export function writeLogLines(logger: Logger, lines: string): void {
  (logger as unknown as Record<symbol, pino.DestinationStream>)[pino.symbols.streamSym]?.write(
    lines,
  );
}
