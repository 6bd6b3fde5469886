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
  /** A \r outside quotes, held until the next character says whether it ends the record. */
  private pendingCr = false;
  private readonly delimiter: string;
  /** The characters that end a run of plain text outside quotes, and inside them. */
  private readonly plainSpecial: RegExp;
  private readonly quotedSpecial: RegExp;

  constructor(private readonly options: CsvInput) {
    this.delimiter = options.recordDelimiter === '\r\n' ? '\n' : options.recordDelimiter;
    this.plainSpecial = charClass([options.fieldDelimiter, this.delimiter, options.quote, '\r']);
    this.quotedSpecial = charClass([
      options.quote,
      options.quoteEscape,
      ...(options.allowQuotedRecordDelimiter ? [] : [this.delimiter]),
    ]);
  }

  /** Feeds text; false when a callback asked to stop. */
  push(text: string, onFields: OnFields): boolean {
    const { fieldDelimiter, quote, quoteEscape, comments, allowQuotedRecordDelimiter } =
      this.options;
    let i = 0;
    while (i < text.length) {
      // Fast path: the plain characters up to the next one that means something, in one slice.
      if (
        !this.inComment &&
        !this.atRecordStart &&
        !this.escaped &&
        !this.quoteSeen &&
        !this.pendingCr
      ) {
        const special = this.quoted ? this.quotedSpecial : this.plainSpecial;
        special.lastIndex = i;
        const found = special.exec(text);
        const stop = found === null ? text.length : found.index;
        if (stop > i) {
          this.recordChars += stop - i;
          if (this.recordChars > LIMITS.selectRecordBytesMax)
            throw new S3Error('OverMaxRecordSize');
          this.field += text.slice(i, stop);
          i = stop;
          if (i === text.length) break;
        }
      }
      const c = text.charAt(i);
      i++;
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
      if (this.pendingCr) {
        // A \r is part of the record delimiter only right before its \n.
        this.pendingCr = false;
        if (c !== '\n') this.field += '\r';
      }
      if (c === '\r' && this.delimiter === '\n') {
        this.pendingCr = true;
      } else if (c === quote && this.field === '' && !this.fieldWasQuoted) {
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

/** A global regex matching any of `chars` (each one character). */
function charClass(chars: readonly string[]): RegExp {
  const escaped = chars.map((c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`).join('');
  return new RegExp(`[${escaped}]`, 'gu');
}
