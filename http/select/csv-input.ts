import { LIMITS } from '../../engine/limits.js';
import { S3Error } from '../s3/errors.js';
import type { CsvInput } from './request.js';

/** Called per record; false stops the scan (LIMIT reached). */
export type OnFields = (fields: string[]) => boolean;

/**
 * A streaming CSV reader: text goes in by pieces (split anywhere, even inside a quoted field),
 * records come out as arrays of fields. Quoting follows RFC 4180 with AWS's settings: the quote
 * character, its escape (a doubled quote by default), a comment character that skips a whole
 * row, and AllowQuotedRecordDelimiter (off: a record delimiter ends the record even inside
 * quotes, as AWS reads such files). A `\r` before a `\n` delimiter is part of the delimiter.
 * One record longer than LIMITS.selectRecordBytesMax characters is OverMaxRecordSize.
 */
export class CsvReader {
  private fields: string[] = [];
  private field = '';
  private recordChars = 0;
  private quoted = false;
  /** The last character was the quote (closing, or the first of a doubled quote). */
  private quoteSeen = false;
  /** The last character was the escape character inside quotes (when it is not the quote). */
  private escaped = false;
  private fieldWasQuoted = false;
  private atRecordStart = true;
  private inComment = false;
  private readonly delimiter: string;

  constructor(private readonly options: CsvInput) {
    this.delimiter = options.recordDelimiter === '\r\n' ? '\n' : options.recordDelimiter;
  }

  /** Feeds text; false when a callback asked to stop. */
  push(text: string, onFields: OnFields): boolean {
    const { fieldDelimiter, quote, quoteEscape, comments, allowQuotedRecordDelimiter } =
      this.options;
    for (let i = 0; i < text.length; i++) {
      const c = text.charAt(i);
      if (this.inComment) {
        if (c === this.delimiter) {
          this.inComment = false;
          this.atRecordStart = true;
        }
        continue;
      }
      if (this.atRecordStart && comments !== '' && c === comments) {
        this.inComment = true;
        continue;
      }
      this.atRecordStart = false;
      if (++this.recordChars > LIMITS.selectRecordBytesMax) throw new S3Error('OverMaxRecordSize');
      if (this.quoted) {
        if (this.escaped) {
          this.field += c;
          this.escaped = false;
          continue;
        }
        if (this.quoteSeen) {
          this.quoteSeen = false;
          if (c === quote && quoteEscape === quote) {
            this.field += c;
            continue;
          }
          this.quoted = false;
        } else if (c === quoteEscape && quoteEscape !== quote) {
          this.escaped = true;
          continue;
        } else if (c === quote) {
          this.quoteSeen = true;
          continue;
        } else if (c !== this.delimiter || allowQuotedRecordDelimiter) {
          this.field += c;
          continue;
        } else {
          this.quoted = false;
        }
      }
      if (c === quote && this.field === '' && !this.fieldWasQuoted) {
        this.quoted = true;
        this.fieldWasQuoted = true;
      } else if (c === fieldDelimiter) {
        this.endField();
      } else if (c === this.delimiter) {
        if (!this.endRecord(onFields)) return false;
      } else {
        this.field += c;
      }
    }
    return true;
  }

  /** The end of the input: the last record needs no delimiter after it. */
  end(onFields: OnFields): void {
    if (this.quoted && this.quoteSeen) this.quoted = false;
    if (this.quoted)
      throw new S3Error('CSVParsingError', 'Encountered an unterminated quoted field.');
    if (!this.atRecordStart && !this.inComment) this.endRecord(onFields);
  }

  private endField(): void {
    this.fields.push(this.field);
    this.field = '';
    this.fieldWasQuoted = false;
  }

  private endRecord(onFields: OnFields): boolean {
    if (this.delimiter === '\n' && !this.fieldWasQuoted && this.field.endsWith('\r')) {
      this.field = this.field.slice(0, -1);
    }
    this.endField();
    const fields = this.fields;
    this.fields = [];
    this.recordChars = 0;
    this.atRecordStart = true;
    // A blank line is no record.
    if (fields.length === 1 && fields[0] === '') return true;
    return onFields(fields);
  }
}
