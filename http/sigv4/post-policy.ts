/**
 * Browser-form uploads (PostObject) signed with AWS Signature Version 4: the form carries a
 * base64 JSON policy and the signature of that base64 text, made with the usual signing key
 * (S3 API reference: sigv4-HTTPPOSTConstructPolicy, sigv4-post-example). A V2 form (S3
 * developer guide, HTTPPOSTForms) carries AWSAccessKeyId and `signature`, the base64
 * HMAC-SHA1 of the same text. Either way the policy then constrains every other form field;
 * the file's size is checked against content-length-range once the file has been read.
 */
import { S3Error } from '../s3/errors.js';
import type { FormField } from '../s3/form-data.js';
import {
  deriveSigningKey,
  S3_SERVICE,
  SIGV4_ALGORITHM,
  SIGV4_TERMINATOR,
  signaturesEqual,
  signHex,
} from './canonical.js';
import { ISO8601_BASIC, secretFor } from './shared.js';
import { checkV2Signature, signatureV2NotAccepted } from './v2.js';
import type { SecretLookup } from './verify.js';

export interface PostPolicyOptions {
  region: string;
  nowMs: number;
  /** Whether V2 forms (AWSAccessKeyId, signature) are accepted (s3.signature_v2). */
  signatureV2: boolean;
}

export interface PostRequest {
  /** The bucket the form was posted to (from the URL). */
  bucket: string;
  /** Form fields before the file, in order, names as sent. */
  fields: readonly FormField[];
  /** The file part's filename, which replaces `${filename}` in the key; null when absent. */
  filename: string | null;
}

/** An inclusive byte range the file must fall in. */
export interface LengthRange {
  min: number;
  max: number;
}

export interface VerifiedPost {
  /** The signing key; null for a form without policy and signature (anonymous). */
  accessKeyId: string | null;
  /** The object key, `${filename}` replaced. */
  key: string;
  /** Every field by lower-cased name (values as sent). */
  fields: ReadonlyMap<string, string>;
  /** From the policy's content-length-range conditions; [0, ∞) when there are none. */
  length: LengthRange;
}

/** Fields that never need a policy condition (AWS: the signature and what it signs, the file). */
const EXEMPT_FIELDS = new Set(['x-amz-signature', 'file', 'policy']);
/** V2's (S3 developer guide, HTTPPOSTForms): its key id and signature need no condition either. */
const EXEMPT_FIELDS_V2 = new Set(['awsaccesskeyid', 'signature', 'file', 'policy']);
const SIGNATURE_HEX = /^[0-9a-f]{64}$/;
/** Replaced in the key field by the uploaded file's name. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: S3's literal variable, not a template.
const FILENAME_VARIABLE = '${filename}';

/**
 * Authenticates a POST form and checks its policy against the fields (not yet the file size:
 * see `checkLength`). Throws the S3Error AWS answers for each fault.
 */
export function verifyPostPolicy(
  request: PostRequest,
  lookup: SecretLookup,
  opts: PostPolicyOptions,
): VerifiedPost {
  const fields = fieldMap(request.fields);
  const v2 = !fields.has('x-amz-algorithm') && fields.has('awsaccesskeyid');
  if (v2 && !opts.signatureV2) throw signatureV2NotAccepted();
  const policyBase64 = fields.get('policy');
  if (policyBase64 === undefined) {
    if (v2 || fields.has('signature') || fields.has('x-amz-signature')) required(fields, 'policy');
    // No policy, no signature: an anonymous upload, which only the bucket's ACL or policy can
    // allow (the decision, by the caller); nothing bounds it but the bucket's own limits.
    return {
      accessKeyId: null,
      key: objectKey(fields, request.filename),
      fields,
      length: { min: 0, max: Number.MAX_SAFE_INTEGER },
    };
  }
  const accessKeyId = v2
    ? authenticateV2Form(fields, policyBase64, lookup)
    : authenticateV4Form(fields, policyBase64, lookup, opts);

  const policy = parsePolicy(policyBase64);
  if (policy.expirationMs <= opts.nowMs) throw policyViolation('Policy expired.');

  const key = objectKey(fields, request.filename);
  // What each condition is checked against: the form's fields, except that `bucket` is the
  // bucket posted to and `key` is the key after ${filename} substitution.
  const checkedValue = (name: string): string | undefined => {
    if (name === 'bucket') return request.bucket;
    if (name === 'key') return key;
    return fields.get(name);
  };
  const covered = new Set<string>();
  let length: LengthRange = { min: 0, max: Number.MAX_SAFE_INTEGER };
  for (const condition of policy.conditions) {
    if (condition.op === 'content-length-range') {
      length = {
        min: Math.max(length.min, condition.min),
        max: Math.min(length.max, condition.max),
      };
      continue;
    }
    covered.add(condition.field);
    const value = checkedValue(condition.field);
    if (value === undefined || !holds(condition, value))
      throw policyViolation(`Policy Condition failed: ${condition.text}`);
  }
  const exempt = v2 ? EXEMPT_FIELDS_V2 : EXEMPT_FIELDS;
  const extra = [...fields.keys()].filter(
    (name) => !exempt.has(name) && !name.startsWith('x-ignore-') && !covered.has(name),
  );
  if (extra.length > 0) throw policyViolation(`Extra input fields: ${extra.join(', ')}`);
  return { accessKeyId, key, fields, length };
}

/** SigV4 form: x-amz-credential, x-amz-date, and the hex signature of the policy text. */
function authenticateV4Form(
  fields: ReadonlyMap<string, string>,
  policyBase64: string,
  lookup: SecretLookup,
  opts: PostPolicyOptions,
): string {
  const algorithm = fields.get('x-amz-algorithm');
  if (algorithm !== SIGV4_ALGORITHM)
    throw invalidArgument(
      'x-amz-algorithm',
      algorithm,
      'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
    );
  const credential = required(fields, 'x-amz-credential');
  const amzDate = required(fields, 'x-amz-date');
  const signature = required(fields, 'x-amz-signature');
  const { accessKeyId, date } = parseCredential(credential, opts.region);
  if (!ISO8601_BASIC.test(amzDate) || amzDate.slice(0, 8) !== date)
    throw invalidArgument(
      'x-amz-date',
      amzDate,
      `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'" and name the credential's date (${date}).`,
    );
  const secret = secretFor(accessKeyId, lookup);
  const signingKey = deriveSigningKey(secret, date, opts.region, S3_SERVICE);
  const expected = signHex(signingKey, policyBase64);
  if (!SIGNATURE_HEX.test(signature) || !signaturesEqual(expected, signature))
    throw new S3Error('SignatureDoesNotMatch', undefined, {
      AWSAccessKeyId: accessKeyId,
      StringToSign: policyBase64,
      SignatureProvided: signature,
    });
  return accessKeyId;
}

/** SigV2 form: AWSAccessKeyId and `signature`, base64 HMAC-SHA1 of the policy text. */
function authenticateV2Form(
  fields: ReadonlyMap<string, string>,
  policyBase64: string,
  lookup: SecretLookup,
): string {
  const accessKeyId = required(fields, 'awsaccesskeyid');
  const signature = required(fields, 'signature');
  const secret = secretFor(accessKeyId, lookup);
  return checkV2Signature(accessKeyId, secret, policyBase64, signature).accessKeyId;
}

/** The file's size against the policy's content-length-range, as AWS reports a miss. */
export function checkLength(length: LengthRange, bytes: number): void {
  if (bytes > length.max)
    throw new S3Error('EntityTooLarge', undefined, {
      ProposedSize: String(bytes),
      MaxSizeAllowed: String(length.max),
    });
  if (bytes < length.min)
    throw new S3Error('EntityTooSmall', undefined, {
      ProposedSize: String(bytes),
      MinSizeAllowed: String(length.min),
    });
}

// ---------------------------------------------------------------------------------------------
// Fields

/** Field names compare without case (a form may send X-Amz-Credential or x-amz-credential). */
function fieldMap(fields: readonly FormField[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const { name, value } of fields) {
    const lower = name.toLowerCase();
    if (map.has(lower))
      throw invalidArgument(lower, value, `The form field '${name}' appears more than once.`);
    map.set(lower, value);
  }
  return map;
}

function required(fields: ReadonlyMap<string, string>, name: string): string {
  const value = fields.get(name);
  if (value === undefined || value === '')
    throw invalidArgument(
      name,
      '',
      `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`,
    );
  return value;
}

/** The key field, `${filename}` replaced by the file's name (left alone when it has none). */
function objectKey(fields: ReadonlyMap<string, string>, filename: string | null): string {
  const key = required(fields, 'key');
  if (filename === null) return key;
  return key.replaceAll(FILENAME_VARIABLE, filename);
}

function parseCredential(
  credential: string,
  region: string,
): { accessKeyId: string; date: string } {
  const parts = credential.split('/');
  const [accessKeyId, date, scopeRegion, service, terminator] = parts;
  if (
    parts.length !== 5 ||
    accessKeyId === undefined ||
    accessKeyId === '' ||
    date === undefined ||
    !/^\d{8}$/.test(date) ||
    service !== S3_SERVICE ||
    terminator !== SIGV4_TERMINATOR
  )
    throw invalidArgument(
      'x-amz-credential',
      credential,
      'Error parsing the X-Amz-Credential parameter; expecting "<YOUR-AKID>/YYYYMMDD/REGION/s3/aws4_request".',
    );
  if (scopeRegion !== region)
    throw new S3Error(
      'AuthorizationQueryParametersError',
      `Error parsing the X-Amz-Credential parameter; the region '${scopeRegion}' is wrong; expecting '${region}'`,
      { Region: region },
    );
  return { accessKeyId, date };
}

// ---------------------------------------------------------------------------------------------
// The policy document

type Condition =
  | { op: 'eq' | 'starts-with'; field: string; value: string; text: string }
  | { op: 'content-length-range'; min: number; max: number; text: string };

interface Policy {
  expirationMs: number;
  conditions: Condition[];
}

function parsePolicy(base64: string): Policy {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64.replace(/\s+/g, '')))
    throw invalidPolicy('Invalid Policy: Invalid base64 encoding.');
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
  } catch {
    throw invalidPolicy('Invalid Policy: Invalid JSON.');
  }
  if (!isRecord(document)) throw invalidPolicy('Invalid Policy: Invalid JSON.');
  const expiration = document.expiration;
  if (typeof expiration !== 'string')
    throw invalidPolicy('Invalid Policy: Policy missing expiration.');
  const expirationMs = parseExpiration(expiration);
  if (expirationMs === undefined)
    throw invalidPolicy(`Invalid Policy: Invalid 'expiration' value: '${expiration}'`);
  const conditions = document.conditions;
  if (!Array.isArray(conditions)) throw invalidPolicy('Invalid Policy: Policy missing conditions.');
  return { expirationMs, conditions: conditions.map(parseCondition) };
}

/** ISO 8601 in UTC, with or without milliseconds: 2013-08-01T12:00:00.000Z. */
function parseExpiration(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/.test(text)) return undefined;
  const ms = Date.parse(text.replace(/(\.\d{3})\d+Z$/, '$1Z'));
  return Number.isNaN(ms) ? undefined : ms;
}

function parseCondition(raw: unknown): Condition {
  const text = JSON.stringify(raw);
  if (isRecord(raw)) {
    // {"field": "value"}: exact match.
    const entries = Object.entries(raw);
    const [entry] = entries;
    if (entries.length !== 1 || entry === undefined || typeof entry[1] !== 'string')
      throw invalidPolicy(`Invalid Policy: Invalid Simple-Condition: ${text}`);
    return {
      op: 'eq',
      field: entry[0].toLowerCase(),
      value: entry[1],
      text: conditionText(['eq', `$${entry[0]}`, entry[1]]),
    };
  }
  if (!Array.isArray(raw) || raw.length !== 3)
    throw invalidPolicy(`Invalid Policy: Invalid Condition: ${text}`);
  const [rawOp, first, second] = raw as [unknown, unknown, unknown];
  const op = typeof rawOp === 'string' ? rawOp.toLowerCase() : '';
  if (op === 'content-length-range') {
    const min = byteCount(first);
    const max = byteCount(second);
    if (min === undefined || max === undefined)
      throw invalidPolicy(`Invalid Policy: Invalid content-length-range: ${text}`);
    return { op, min, max, text: conditionText(raw) };
  }
  if (op !== 'eq' && op !== 'starts-with')
    throw invalidPolicy(
      `Invalid Policy: Invalid Condition: unknown operation ${JSON.stringify(rawOp)}`,
    );
  if (typeof first !== 'string' || !first.startsWith('$') || typeof second !== 'string')
    throw invalidPolicy(`Invalid Policy: Invalid Condition: ${text}`);
  return { op, field: first.slice(1).toLowerCase(), value: second, text: conditionText(raw) };
}

/** A condition as AWS quotes it in errors: ["eq", "$key", "v"]. */
function conditionText(items: readonly unknown[]): string {
  return `[${items.map((item) => JSON.stringify(item)).join(', ')}]`;
}

/** content-length-range bounds: non-negative integers (AWS also takes them as digit strings). */
function byteCount(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function holds(condition: Extract<Condition, { field: string }>, value: string): boolean {
  if (condition.op === 'eq') return value === condition.value;
  // A Content-Type may list several types; each must start with the prefix.
  if (condition.field === 'content-type')
    return value.split(',').every((part) => part.trim().startsWith(condition.value));
  return value.startsWith(condition.value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function policyViolation(detail: string): S3Error {
  return new S3Error('AccessDenied', `Invalid according to Policy: ${detail}`);
}

function invalidPolicy(message: string): S3Error {
  return new S3Error('InvalidPolicyDocument', message);
}

function invalidArgument(name: string, value: string | undefined, message: string): S3Error {
  return new S3Error('InvalidArgument', message, {
    ArgumentName: name,
    ArgumentValue: value ?? '',
  });
}
