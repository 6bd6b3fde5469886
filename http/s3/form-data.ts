/**
 * An incremental multipart/form-data parser (RFC 7578 over RFC 2046's multipart syntax) for
 * PostObject. Text fields before the `file` field are collected, bounded in count, in bytes per
 * value, in names and values together (AWS allows 20 KB of them) and in every byte before the
 * file, framing included (so a stream of empty fields cannot grow memory); the `file` field's
 * bytes are handed on as they arrive and never buffered; everything after the file part is
 * ignored, as S3 ignores fields after `file`. Bytes may be pushed in chunks split anywhere, even
 * one byte at a time.
 */
import { LIMITS } from '../../engine/limits.js';
import { S3Error } from './errors.js';

/** A text field, in the order the form sent it. `name` is as sent (S3 compares it ignoring case). */
export interface FormField {
  readonly name: string;
  readonly value: string;
}

/** What the `file` part says about itself. */
export interface FormFile {
  /** The `filename` parameter of its Content-Disposition; null when absent. */
  readonly filename: string | null;
  /** The part's own Content-Type header; null when absent. */
  readonly contentType: string | null;
}

export interface FormDataHandlers {
  /** The file part begins: every field before it is known. May throw to stop the parse. */
  onFile(fields: readonly FormField[], file: FormFile): void;
  /** File bytes. The view is valid only during the call: copy what you keep. */
  onFileData(view: Uint8Array): void;
  /** The file part ended (its closing delimiter was seen). */
  onFileEnd(): void;
}

export interface FormDataLimits {
  /** Bytes of all field names and values before the file together. */
  fieldsBytesMax: number;
  /** Bytes of one field's value. */
  fieldValueBytesMax: number;
  /** Fields before the file. */
  fieldsMax: number;
  /** Bytes of one part's header block. */
  partHeaderBytesMax: number;
  /** Bytes on the wire before the file part begins, framing included. */
  preFileBytesMax: number;
}

/** AWS: "POST requests … the form fields and their values must be less than 20 KB." */
export const DEFAULT_FORM_LIMITS: FormDataLimits = {
  fieldsBytesMax: LIMITS.postFieldsBytesMax,
  fieldValueBytesMax: LIMITS.postFieldValueBytesMax,
  fieldsMax: LIMITS.postFieldsMax,
  partHeaderBytesMax: LIMITS.postPartHeaderBytesMax,
  preFileBytesMax: LIMITS.postPreFileBytesMax,
};

const CR = 13;
const LF = 10;
const DASH = 45;
const HEADER_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

type State =
  /** Before the first delimiter (the preamble, discarded). */
  | 'preamble'
  /** Just after a delimiter: "--" closes the body, else padding then CRLF opens a part. */
  | 'delimiter-line'
  /** Reading a part's header block, up to CRLF CRLF. */
  | 'headers'
  /** Reading a text field's value, up to the next delimiter. */
  | 'field'
  /** Streaming the file's bytes, up to the next delimiter. */
  | 'file'
  /** After the file part, or after the closing delimiter: ignore everything. */
  | 'done';

/**
 * The boundary of a `multipart/form-data` Content-Type; MalformedPOSTRequest if there is none.
 * RFC 2046: 1 to 70 characters, optionally quoted.
 */
export function boundaryOf(contentType: string | undefined): string {
  if (contentType === undefined) throw malformed('The request has no Content-Type.');
  const [type, ...params] = contentType.split(';');
  if (type?.trim().toLowerCase() !== 'multipart/form-data')
    throw malformed('The Content-Type is not multipart/form-data.');
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'boundary') continue;
    let value = param.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
      value = value.slice(1, -1);
    if (value.length < 1 || value.length > 70 || /[\r\n]/.test(value))
      throw malformed('The multipart boundary is not valid.');
    return value;
  }
  throw malformed('The Content-Type has no multipart boundary.');
}

export class FormDataParser {
  /** "\r\n--" + boundary: what separates parts. Contains CR only at index 0. */
  private readonly delimiter: Buffer;
  private state: State = 'preamble';
  /** How many bytes of `delimiter` the input seen so far ends with (a match in progress). */
  private matched = 2; // the body may open with "--boundary": pretend a CRLF came before it
  /** Bytes of the current header block, delimiter line, or field value. */
  private pieces: Buffer[] = [];
  private pieceBytes = 0;
  private fieldName = '';
  private fieldsBytes = 0;
  private fieldValueBytes = 0;
  /** Bytes consumed before the file part began (all of them, framing included). */
  private preFileBytes = 0;
  private readonly fields: FormField[] = [];
  private sawFile = false;

  constructor(
    boundary: string,
    private readonly handlers: FormDataHandlers,
    private readonly limits: FormDataLimits = DEFAULT_FORM_LIMITS,
  ) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  }

  /** Whether the file part has been read to its end. */
  get fileComplete(): boolean {
    return this.sawFile && this.state === 'done';
  }

  /** Feeds the next bytes of the body. Throws S3Error on malformed input (or what handlers throw). */
  push(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.byteLength) {
      const before = offset;
      const beforeFile = !this.sawFile;
      switch (this.state) {
        case 'preamble':
        case 'field':
        case 'file':
          offset = this.scanBody(chunk, offset);
          break;
        case 'delimiter-line':
          offset = this.readDelimiterLine(chunk, offset);
          break;
        case 'headers':
          offset = this.readHeaders(chunk, offset);
          break;
        case 'done':
          return;
      }
      // A step that began before the file part read only pre-file bytes (the step that opens
      // the file part stops at the end of its headers).
      if (beforeFile) this.countPreFileBytes(offset - before);
    }
  }

  /** The body ended. Throws unless the file part was read whole. */
  end(): void {
    if (this.fileComplete) return;
    if (this.state === 'done')
      throw new S3Error('InvalidArgument', 'POST requires exactly one file upload per request.', {
        ArgumentName: 'file',
        ArgumentValue: '0',
      });
    throw malformed('The multipart body ended before its closing boundary.');
  }

  // ---- part bodies: search for the delimiter, streaming or collecting what precedes it ----

  /**
   * Consumes body bytes from `chunk[start..]` up to and including the next delimiter, or all of
   * it. Bytes that might begin a delimiter are held back (only as the count `matched`: they are
   * the delimiter's own first bytes) until the next chunk tells whether they do.
   */
  private scanBody(chunk: Uint8Array, start: number): number {
    const d = this.delimiter;
    let i = start;
    if (this.matched > 0) {
      let m = this.matched;
      while (i < chunk.byteLength && m < d.length && chunk[i] === d[m]) {
        m++;
        i++;
      }
      if (m === d.length) {
        this.matched = 0;
        this.closePart();
        return i;
      }
      if (i === chunk.byteLength) {
        this.matched = m;
        return i;
      }
      // Not a delimiter after all. CR occurs only at its start, so no later match can begin
      // inside the held-back bytes: they are content.
      this.matched = 0;
      this.content(d.subarray(0, m));
    }
    const view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const found = view.indexOf(d, i);
    if (found >= 0) {
      if (found > i) this.content(chunk.subarray(i, found));
      this.closePart();
      return found + d.length;
    }
    // No whole delimiter: hold back a tail that is a prefix of one.
    let keep = chunk.byteLength;
    for (let p = Math.max(i, chunk.byteLength - d.length + 1); p < chunk.byteLength; p++) {
      if (chunk[p] !== CR) continue;
      if (view.subarray(p).equals(d.subarray(0, chunk.byteLength - p))) {
        keep = p;
        break;
      }
    }
    if (keep > i) this.content(chunk.subarray(i, keep));
    this.matched = chunk.byteLength - keep;
    return chunk.byteLength;
  }

  /** Bytes of the current part's body (or the preamble). */
  private content(view: Uint8Array): void {
    if (view.byteLength === 0) return;
    if (this.state === 'file') this.handlers.onFileData(view);
    else if (this.state === 'field') {
      this.countFieldBytes(view.byteLength);
      this.fieldValueBytes += view.byteLength;
      if (this.fieldValueBytes > this.limits.fieldValueBytesMax)
        throw tooLarge(`The form field '${this.fieldName}' is too large.`);
      this.collect(view);
    }
    // The preamble is discarded.
  }

  /** A delimiter ended the preamble or a part. */
  private closePart(): void {
    if (this.state === 'file') {
      this.handlers.onFileEnd();
      this.state = 'done';
      return;
    }
    if (this.state === 'field') {
      if (this.fields.length >= this.limits.fieldsMax)
        throw tooLarge(
          `A POST form may send at most ${this.limits.fieldsMax} fields before the file.`,
        );
      this.fields.push({ name: this.fieldName, value: this.takeCollected().toString('utf8') });
    }
    this.state = 'delimiter-line';
  }

  // ---- the rest of a delimiter's line ----

  private readDelimiterLine(chunk: Uint8Array, start: number): number {
    const lf = chunk.indexOf(LF, start);
    const end = lf < 0 ? chunk.byteLength : lf + 1;
    this.collect(chunk.subarray(start, end));
    const line = this.peekCollected();
    if (line.length >= 2 && line[0] === DASH && line[1] === DASH) {
      // The closing delimiter: the body ends (the epilogue is ignored) without a file.
      this.takeCollected();
      this.state = 'done';
      return chunk.byteLength;
    }
    if (line.length === 1 && line[0] === DASH) return end; // "-" then, perhaps, "-"
    if (this.pieceBytes > LIMITS.postDelimiterLineBytesMax)
      throw malformed('A multipart boundary line is too long.');
    if (lf < 0) return end;
    const text = this.takeCollected().toString('latin1');
    if (!/^[ \t]*\r\n$/.test(text))
      throw malformed('A multipart boundary is not followed by CRLF.');
    this.state = 'headers';
    this.collect(CRLF);
    return end;
  }

  // ---- part headers ----

  private readHeaders(chunk: Uint8Array, start: number): number {
    // The block ends at the first CRLF CRLF; the collected bytes begin with the delimiter line's
    // CRLF, so an empty block is found too. The terminator may straddle chunks: probe the
    // collected tail joined with this chunk's head, then search this chunk alone.
    const view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let end = -1;
    const tailBytes = Math.min(this.pieceBytes, HEADER_END.length - 1);
    if (tailBytes > 0) {
      const collected = this.peekCollected();
      const probe = Buffer.concat([
        collected.subarray(collected.length - tailBytes),
        view.subarray(start, start + HEADER_END.length - 1),
      ]);
      const at = probe.indexOf(HEADER_END);
      if (at >= 0 && at < tailBytes) end = start + at + HEADER_END.length - tailBytes;
    }
    if (end < 0) {
      const at = view.indexOf(HEADER_END, start);
      if (at >= 0) end = at + HEADER_END.length;
    }
    const stop = end < 0 ? chunk.byteLength : end;
    if (this.pieceBytes + (stop - start) > this.limits.partHeaderBytesMax + 6)
      throw malformed('A multipart part has too large a header.');
    this.collect(chunk.subarray(start, stop));
    if (end < 0) return stop;
    const block = this.takeCollected();
    this.openPart(block.subarray(2, block.length - HEADER_END.length).toString('utf8'));
    return stop;
  }

  private openPart(headerBlock: string): void {
    let disposition: string | null = null;
    let contentType: string | null = null;
    // An empty header block is legal multipart, but form-data parts must name themselves.
    for (const line of headerBlock === '' ? [] : headerBlock.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw malformed('A multipart part header is not "name: value".');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-disposition') disposition = value;
      else if (name === 'content-type') contentType = value;
    }
    if (disposition === null) throw malformed('A multipart part has no Content-Disposition.');
    const { type, params } = parseDisposition(disposition);
    const name = params.get('name');
    if (type !== 'form-data' || name === undefined)
      throw malformed('A multipart part is not a named form-data field.');
    if (name.toLowerCase() === 'file') {
      this.sawFile = true;
      this.state = 'file';
      this.handlers.onFile(this.fields, {
        filename: params.get('filename') ?? null,
        contentType,
      });
      return;
    }
    this.countFieldBytes(Buffer.byteLength(name));
    this.fieldName = name;
    this.fieldValueBytes = 0;
    this.state = 'field';
  }

  private countFieldBytes(bytes: number): void {
    this.fieldsBytes += bytes;
    if (this.fieldsBytes > this.limits.fieldsBytesMax) throw tooLarge();
  }

  private countPreFileBytes(bytes: number): void {
    this.preFileBytes += bytes;
    if (this.preFileBytes > this.limits.preFileBytesMax) throw tooLarge();
  }

  // ---- a small accumulator for headers, delimiter lines and field values ----

  private collect(view: Uint8Array): void {
    if (view.byteLength === 0) return;
    this.pieces.push(Buffer.from(view)); // a copy: the caller's view dies with the callback
    this.pieceBytes += view.byteLength;
  }

  private peekCollected(): Buffer {
    if (this.pieces.length !== 1) {
      const joined = Buffer.concat(this.pieces, this.pieceBytes);
      this.pieces = [joined];
    }
    return this.pieces[0] ?? Buffer.alloc(0);
  }

  private takeCollected(): Buffer {
    const all =
      this.pieces.length === 1
        ? (this.pieces[0] ?? Buffer.alloc(0))
        : Buffer.concat(this.pieces, this.pieceBytes);
    this.pieces = [];
    this.pieceBytes = 0;
    return all;
  }
}

/**
 * `form-data; name="key"; filename="a b.txt"`: the type and its parameters (names lower-cased,
 * quoted values unquoted; a backslash escapes the next character, as browsers other than those
 * that percent-encode quotes send them).
 */
export function parseDisposition(value: string): { type: string; params: Map<string, string> } {
  const params = new Map<string, string>();
  let i = value.indexOf(';');
  const type = (i < 0 ? value : value.slice(0, i)).trim().toLowerCase();
  while (i >= 0 && i < value.length) {
    i++; // past ';'
    while (i < value.length && (value[i] === ' ' || value[i] === '\t')) i++;
    const eq = value.indexOf('=', i);
    if (eq < 0) break;
    const name = value.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    while (i < value.length && (value[i] === ' ' || value[i] === '\t')) i++;
    let paramValue = '';
    if (value[i] === '"') {
      i++;
      while (i < value.length && value[i] !== '"') {
        if (value[i] === '\\' && i + 1 < value.length) i++;
        paramValue += value[i];
        i++;
      }
      if (i >= value.length) throw malformed('A Content-Disposition quoted string is not closed.');
      i++; // past the closing quote
      const next = value.indexOf(';', i);
      i = next < 0 ? value.length : next;
    } else {
      const next = value.indexOf(';', i);
      paramValue = (next < 0 ? value.slice(i) : value.slice(i, next)).trim();
      i = next < 0 ? value.length : next;
    }
    if (name !== '' && !params.has(name)) params.set(name, paramValue);
  }
  return { type, params };
}

/** AWS's answer to fields before the file that are too large, in any way. */
function tooLarge(detail?: string): S3Error {
  const message = 'Your POST request fields preceding the upload file were too large.';
  return new S3Error(
    'MaxPostPreDataLengthExceededError',
    detail === undefined ? message : `${message} ${detail}`,
  );
}

function malformed(detail: string): S3Error {
  return new S3Error('MalformedPOSTRequest', `${S3_MALFORMED_POST} ${detail}`);
}

const S3_MALFORMED_POST = 'The body of your POST request is not well-formed multipart/form-data.';
