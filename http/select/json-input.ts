import { LIMITS } from '../../engine/limits.js';
import { S3Error } from '../s3/errors.js';
import type { SqlValue } from './ast.js';

/** Called per record; false stops the scan (LIMIT reached). */
export type OnValue = (value: SqlValue) => boolean;

/**
 * A streaming JSON reader. LINES: one value per line. DOCUMENT: one or more top-level objects
 * or arrays, each as many lines as it likes; the scanner tracks strings and nesting to find
 * where each ends, so a file of concatenated documents streams. Either way one record is at
 * most LIMITS.selectRecordBytesMax characters (AWS's record bound), so memory stays bounded.
 */
export class JsonReader {
  private pending = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** How much of `pending` the DOCUMENT scanner has read. */
  private scanned = 0;

  constructor(private readonly type: 'DOCUMENT' | 'LINES') {}

  push(text: string, onValue: OnValue): boolean {
    this.pending += text;
    return this.type === 'LINES' ? this.lines(onValue) : this.documents(onValue);
  }

  end(onValue: OnValue): void {
    if (this.type === 'LINES') {
      if (this.pending.trim() !== '') onValue(parseRecord(this.pending));
      return;
    }
    if (this.pending.trim() !== '')
      throw new S3Error('JSONParsingError', 'The JSON document ends inside a value.');
  }

  private lines(onValue: OnValue): boolean {
    let start = 0;
    for (;;) {
      const newline = this.pending.indexOf('\n', start);
      if (newline < 0) break;
      const line = this.pending.slice(start, newline);
      start = newline + 1;
      if (line.trim() !== '' && !onValue(parseRecord(line))) return false;
    }
    this.pending = this.pending.slice(start);
    if (this.pending.length > LIMITS.selectRecordBytesMax) throw new S3Error('OverMaxRecordSize');
    return true;
  }

  private documents(onValue: OnValue): boolean {
    let start = 0;
    const text = this.pending;
    for (let i = this.scanned; i < text.length; i++) {
      const c = text.charAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
      } else if (c === '"') {
        if (this.depth === 0)
          throw new S3Error(
            'JSONParsingError',
            'A top-level JSON value must be an object or array.',
          );
        this.inString = true;
      } else if (c === '{' || c === '[') {
        if (this.depth === 0) start = skipSpace(text, start, i);
        this.depth++;
      } else if (c === '}' || c === ']') {
        if (this.depth === 0) throw new S3Error('JSONParsingError');
        this.depth--;
        if (this.depth === 0) {
          const value = parseRecord(text.slice(start, i + 1));
          start = i + 1;
          if (!onValue(value)) return false;
        }
      } else if (this.depth === 0 && !/\s/.test(c)) {
        throw new S3Error('JSONParsingError', 'A top-level JSON value must be an object or array.');
      }
    }
    this.pending = text.slice(start);
    this.scanned = this.pending.length;
    if (this.pending.length > LIMITS.selectRecordBytesMax) throw new S3Error('OverMaxRecordSize');
    return true;
  }
}

/** Start of the value at `at`, checking only whitespace came before it since `from`. */
function skipSpace(text: string, from: number, at: number): number {
  if (text.slice(from, at).trim() !== '') throw new S3Error('JSONParsingError');
  return at;
}

function parseRecord(text: string): SqlValue {
  if (text.length > LIMITS.selectRecordBytesMax) throw new S3Error('OverMaxRecordSize');
  try {
    return JSON.parse(text) as SqlValue;
  } catch {
    throw new S3Error('JSONParsingError');
  }
}
