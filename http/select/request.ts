import { LIMITS } from '../../engine/limits.js';
import { S3Error } from '../s3/errors.js';
import { checkElements, elementOf, optionalText, parseXml, type XmlNode } from '../s3/xml.js';

/** A SelectObjectContentRequest, validated. */
export interface SelectRequest {
  readonly expression: string;
  readonly progress: boolean;
  readonly compression: 'NONE' | 'GZIP' | 'BZIP2';
  readonly input: CsvInput | JsonInput | { readonly kind: 'parquet' };
  readonly output: CsvOutput | JsonOutput;
  /** Byte offsets, End inclusive as AWS's; null: the whole object. */
  readonly scanRange: { readonly start: number | null; readonly end: number | null } | null;
}

export interface CsvInput {
  readonly kind: 'csv';
  readonly header: 'USE' | 'IGNORE' | 'NONE';
  readonly fieldDelimiter: string;
  readonly recordDelimiter: string;
  readonly quote: string;
  readonly quoteEscape: string;
  readonly comments: string;
  readonly allowQuotedRecordDelimiter: boolean;
}

export interface JsonInput {
  readonly kind: 'json';
  readonly type: 'DOCUMENT' | 'LINES';
}

export interface CsvOutput {
  readonly kind: 'csv';
  readonly quoteFields: 'ALWAYS' | 'ASNEEDED';
  readonly fieldDelimiter: string;
  readonly recordDelimiter: string;
  readonly quote: string;
  readonly quoteEscape: string;
}

export interface JsonOutput {
  readonly kind: 'json';
  readonly recordDelimiter: string;
}

const ROOT = 'SelectObjectContentRequest';

/** Parses the request body; AWS's error codes for each field it refuses. */
export function parseSelectRequest(xml: string): SelectRequest {
  const root = parseXml(xml, ROOT);
  checkElements(root, [
    'Expression',
    'ExpressionType',
    'RequestProgress',
    'InputSerialization',
    'OutputSerialization',
    'ScanRange',
  ]);
  const expression = optionalText(root, 'Expression');
  const expressionType = optionalText(root, 'ExpressionType');
  if (expression === undefined || expressionType === undefined)
    throw new S3Error('MissingRequiredParameter');
  if (expressionType !== 'SQL') throw new S3Error('InvalidExpressionType');
  if (Buffer.byteLength(expression) > LIMITS.selectExpressionBytesMax)
    throw new S3Error('ExpressionTooLong');
  if (root['InputSerialization'] === undefined || root['OutputSerialization'] === undefined) {
    throw new S3Error('MissingRequiredParameter');
  }
  const inputNode = elementOf(root['InputSerialization']);
  checkElements(inputNode, ['CompressionType', 'CSV', 'JSON', 'Parquet']);
  return {
    expression,
    progress: progressOf(root),
    compression: compressionOf(inputNode),
    input: inputOf(inputNode),
    output: outputOf(elementOf(root['OutputSerialization'])),
    scanRange: scanRangeOf(root),
  };
}

function progressOf(root: XmlNode): boolean {
  if (root['RequestProgress'] === undefined) return false;
  return booleanOf(optionalText(elementOf(root['RequestProgress']), 'Enabled') ?? 'FALSE');
}

function booleanOf(text: string): boolean {
  const upper = text.trim().toUpperCase();
  if (upper !== 'TRUE' && upper !== 'FALSE') throw new S3Error('InvalidRequestParameter');
  return upper === 'TRUE';
}

function compressionOf(input: XmlNode): SelectRequest['compression'] {
  const text = (optionalText(input, 'CompressionType') ?? 'NONE').trim().toUpperCase();
  if (text !== 'NONE' && text !== 'GZIP' && text !== 'BZIP2')
    throw new S3Error('InvalidCompressionFormat');
  return text;
}

function inputOf(input: XmlNode): SelectRequest['input'] {
  const given = ['CSV', 'JSON', 'Parquet'].filter((name) => input[name] !== undefined);
  if (given.length !== 1)
    throw new S3Error(given.length === 0 ? 'MissingRequiredParameter' : 'InvalidRequestParameter');
  if (input['Parquet'] !== undefined) return { kind: 'parquet' };
  if (input['JSON'] !== undefined)
    return { kind: 'json', type: jsonTypeOf(elementOf(input['JSON'])) };
  const csv = elementOf(input['CSV']);
  checkElements(csv, [
    'FileHeaderInfo',
    'Comments',
    'QuoteEscapeCharacter',
    'RecordDelimiter',
    'FieldDelimiter',
    'QuoteCharacter',
    'AllowQuotedRecordDelimiter',
  ]);
  const header = (optionalText(csv, 'FileHeaderInfo') ?? 'NONE').trim().toUpperCase();
  if (header !== 'USE' && header !== 'IGNORE' && header !== 'NONE')
    throw new S3Error('InvalidFileHeaderInfo');
  return {
    kind: 'csv',
    header,
    fieldDelimiter: character(csv, 'FieldDelimiter', ','),
    recordDelimiter: recordDelimiter(csv),
    quote: character(csv, 'QuoteCharacter', '"'),
    quoteEscape: character(csv, 'QuoteEscapeCharacter', '"'),
    comments: optionalText(csv, 'Comments') ?? '#',
    allowQuotedRecordDelimiter: booleanOf(
      optionalText(csv, 'AllowQuotedRecordDelimiter') ?? 'FALSE',
    ),
  };
}

function jsonTypeOf(json: XmlNode): JsonInput['type'] {
  checkElements(json, ['Type']);
  const type = (optionalText(json, 'Type') ?? '').trim().toUpperCase();
  if (type !== 'DOCUMENT' && type !== 'LINES') throw new S3Error('InvalidJsonType');
  return type;
}

function outputOf(output: XmlNode): SelectRequest['output'] {
  checkElements(output, ['CSV', 'JSON']);
  const given = ['CSV', 'JSON'].filter((name) => output[name] !== undefined);
  if (given.length !== 1)
    throw new S3Error(given.length === 0 ? 'MissingRequiredParameter' : 'InvalidRequestParameter');
  if (output['JSON'] !== undefined) {
    const json = elementOf(output['JSON']);
    checkElements(json, ['RecordDelimiter']);
    return { kind: 'json', recordDelimiter: recordDelimiter(json) };
  }
  const csv = elementOf(output['CSV']);
  checkElements(csv, [
    'QuoteFields',
    'QuoteEscapeCharacter',
    'RecordDelimiter',
    'FieldDelimiter',
    'QuoteCharacter',
  ]);
  const quoteFields = (optionalText(csv, 'QuoteFields') ?? 'ASNEEDED').trim().toUpperCase();
  if (quoteFields !== 'ALWAYS' && quoteFields !== 'ASNEEDED')
    throw new S3Error('InvalidQuoteFields');
  return {
    kind: 'csv',
    quoteFields,
    fieldDelimiter: character(csv, 'FieldDelimiter', ','),
    recordDelimiter: recordDelimiter(csv),
    quote: character(csv, 'QuoteCharacter', '"'),
    quoteEscape: character(csv, 'QuoteEscapeCharacter', '"'),
  };
}

/** A one-character setting (AWS: "a single character"). */
function character(node: XmlNode, name: string, fallback: string): string {
  const text = optionalText(node, name);
  if (text === undefined || text === '') return fallback;
  if ([...text].length !== 1)
    throw new S3Error('InvalidRequestParameter', `${name} must be a single character.`);
  return text;
}

/** A record delimiter: one character, or \r\n. */
function recordDelimiter(node: XmlNode): string {
  const text = optionalText(node, 'RecordDelimiter');
  if (text === undefined || text === '') return '\n';
  if (text !== '\r\n' && [...text].length !== 1) {
    throw new S3Error(
      'InvalidRequestParameter',
      'RecordDelimiter must be one character or \\r\\n.',
    );
  }
  return text;
}

function scanRangeOf(root: XmlNode): SelectRequest['scanRange'] {
  if (root['ScanRange'] === undefined) return null;
  const node = elementOf(root['ScanRange']);
  checkElements(node, ['Start', 'End']);
  const start = offsetOf(optionalText(node, 'Start'));
  const end = offsetOf(optionalText(node, 'End'));
  if (start !== null && end !== null && start > end)
    throw new S3Error('InvalidRequestParameter', 'ScanRange Start must not exceed End.');
  return start === null && end === null ? null : { start, end };
}

function offsetOf(text: string | undefined): number | null {
  if (text === undefined) return null;
  if (!/^\s*\d{1,15}\s*$/.test(text))
    throw new S3Error('InvalidRequestParameter', 'ScanRange offsets are non-negative integers.');
  return Number(text);
}
