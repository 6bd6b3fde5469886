/**
 * One server access log record in AWS's format ("Amazon S3 server access log format"): 26
 * space-separated fields, `-` where a field has no value, the time in brackets, and Request-URI,
 * Referer and User-Agent in double quotes. Inside quotes hangar escapes `"` and `\` with a
 * backslash and control characters as \xHH, so a hostile User-Agent cannot forge a field.
 */
export interface AccessLogFacts {
  readonly bucketOwner: string;
  readonly bucket: string;
  readonly timeMs: number;
  readonly remoteIp: string;
  /** The requester's canonical id; null: anonymous. */
  readonly requester: string | null;
  readonly requestId: string;
  /** The S3 action hangar routed the request to (GetObject, PutObject, ...). */
  readonly action: string;
  readonly method: string;
  readonly key: string | null;
  readonly rawPath: string;
  readonly rawQuery: string;
  readonly status: number;
  readonly errorCode: string | null;
  readonly bytesSent: number;
  readonly objectSize: number | null;
  readonly totalTimeMs: number;
  readonly referer: string | undefined;
  readonly userAgent: string | undefined;
  readonly versionId: string | undefined;
  readonly signatureVersion: 'SigV2' | 'SigV4' | null;
  readonly authType: 'AuthHeader' | 'QueryString' | null;
  readonly host: string | undefined;
}

/** AWS's resource part of the operation (REST.<METHOD>.<RESOURCE>), by hangar's action name. */
const RESOURCES: Readonly<Record<string, string>> = {
  ListObjects: 'BUCKET',
  ListObjectsV2: 'BUCKET',
  HeadBucket: 'BUCKET',
  CreateBucket: 'BUCKET',
  DeleteBucket: 'BUCKET',
  GetBucketLocation: 'LOCATION',
  ListObjectVersions: 'BUCKETVERSIONS',
  GetBucketVersioning: 'VERSIONING',
  PutBucketVersioning: 'VERSIONING',
  GetBucketLogging: 'LOGGING_STATUS',
  PutBucketLogging: 'LOGGING_STATUS',
  GetBucketAcl: 'ACL',
  PutBucketAcl: 'ACL',
  GetObjectAcl: 'ACL',
  PutObjectAcl: 'ACL',
  GetBucketPolicy: 'BUCKETPOLICY',
  PutBucketPolicy: 'BUCKETPOLICY',
  DeleteBucketPolicy: 'BUCKETPOLICY',
  GetBucketPolicyStatus: 'POLICY_STATUS',
  GetBucketCors: 'CORS',
  PutBucketCors: 'CORS',
  DeleteBucketCors: 'CORS',
  GetBucketWebsite: 'WEBSITE',
  PutBucketWebsite: 'WEBSITE',
  DeleteBucketWebsite: 'WEBSITE',
  GetBucketLifecycleConfiguration: 'LIFECYCLE',
  PutBucketLifecycleConfiguration: 'LIFECYCLE',
  DeleteBucketLifecycle: 'LIFECYCLE',
  GetBucketEncryption: 'ENCRYPTION',
  PutBucketEncryption: 'ENCRYPTION',
  DeleteBucketEncryption: 'ENCRYPTION',
  GetBucketTagging: 'TAGGING',
  PutBucketTagging: 'TAGGING',
  DeleteBucketTagging: 'TAGGING',
  GetObjectTagging: 'OBJECT_TAGGING',
  PutObjectTagging: 'OBJECT_TAGGING',
  DeleteObjectTagging: 'OBJECT_TAGGING',
  GetPublicAccessBlock: 'PUBLIC_ACCESS_BLOCK',
  PutPublicAccessBlock: 'PUBLIC_ACCESS_BLOCK',
  DeletePublicAccessBlock: 'PUBLIC_ACCESS_BLOCK',
  GetBucketOwnershipControls: 'OWNERSHIP_CONTROLS',
  PutBucketOwnershipControls: 'OWNERSHIP_CONTROLS',
  DeleteBucketOwnershipControls: 'OWNERSHIP_CONTROLS',
  GetObjectLockConfiguration: 'OBJECT_LOCK_CONFIGURATION',
  PutObjectLockConfiguration: 'OBJECT_LOCK_CONFIGURATION',
  GetObjectRetention: 'RETENTION',
  PutObjectRetention: 'RETENTION',
  GetObjectLegalHold: 'LEGAL_HOLD',
  PutObjectLegalHold: 'LEGAL_HOLD',
  GetObjectAttributes: 'OBJECT_ATTRIBUTES',
  RestoreObject: 'RESTORE',
  DeleteObjects: 'MULTI_OBJECT_DELETE',
  CreateMultipartUpload: 'UPLOADS',
  ListMultipartUploads: 'UPLOADS',
  UploadPart: 'PART',
  UploadPartCopy: 'PART',
  CompleteMultipartUpload: 'UPLOAD',
  AbortMultipartUpload: 'UPLOAD',
  ListParts: 'UPLOAD',
};

/** The action of a request to the website endpoint (logged WEBSITE.<method>.OBJECT). */
export const WEBSITE_ACTION = 'WebsiteRequest';

/**
 * REST.GET.OBJECT and the like; a copy is REST.COPY.OBJECT / REST.COPY.PART, and a website
 * endpoint request WEBSITE.GET.OBJECT / WEBSITE.HEAD.OBJECT, as AWS logs them.
 */
export function operationOf(action: string, method: string, key: string | null): string {
  if (action === WEBSITE_ACTION) return `WEBSITE.${method}.OBJECT`;
  const resource = RESOURCES[action] ?? (key !== null ? 'OBJECT' : 'BUCKET');
  const verb = action === 'CopyObject' || action === 'UploadPartCopy' ? 'COPY' : method;
  return `REST.${verb}.${resource}`;
}

function dash(value: string | null | undefined): string {
  return value === null || value === undefined || value === '' ? '-' : value;
}

const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/;
const ESCAPES = /["\\\u0000-\u001f\u007f-\uffff]/g;

/** A double-quoted field; `"-"` when empty, as AWS writes an absent Referer or User-Agent. */
function quoted(value: string | undefined): string {
  if (value === undefined || value === '') return '"-"';
  if (!NEEDS_ESCAPE.test(value)) return `"${value}"`;
  return `"${value.replace(ESCAPES, escapeChar)}"`;
}

function escapeChar(c: string): string {
  if (c === '"' || c === '\\') return `\\${c}`;
  const code = c.charCodeAt(0);
  // Header values are latin1 as uWS reads them: one byte each (an unpaired code unit past 0xff
  // cannot come from the wire, but is escaped as \uHHHH all the same).
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** An unquoted field from the request (the host header): no spaces, quotes or controls. */
function bare(value: string | undefined): string {
  return dash(value?.replace(/[\s"\\\u0000-\u001f\u007f-\uffff]/g, escapeChar));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** [06/Feb/2019:00:00:38 +0000] */
export function logTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `[${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000]`;
}

/** The key as AWS logs it: URL-encoded, slashes kept. */
function encodedKey(key: string | null): string {
  return key === null || key === '' ? '-' : encodeURIComponent(key).replace(/%2F/g, '/');
}

function count(n: number | null): string {
  return n === null || n <= 0 ? '-' : String(n);
}

/** The record's line, without its newline. */
export function formatRecord(f: AccessLogFacts): string {
  const uri = `${f.method} ${f.rawPath}${f.rawQuery === '' ? '' : `?${f.rawQuery}`} HTTP/1.1`;
  return [
    f.bucketOwner,
    bare(f.bucket),
    logTime(f.timeMs),
    bare(f.remoteIp),
    dash(f.requester),
    f.requestId,
    operationOf(f.action, f.method, f.key),
    encodedKey(f.key),
    quoted(uri),
    f.status === 0 ? '-' : String(f.status),
    bare(f.errorCode ?? undefined),
    count(f.bytesSent),
    count(f.objectSize),
    String(Math.max(0, Math.round(f.totalTimeMs))),
    // Turn-around time: hangar does not time the first response byte apart from the rest.
    '-',
    quoted(f.referer),
    quoted(f.userAgent),
    bare(f.versionId),
    // Host id (x-amz-id-2): hangar sends none.
    '-',
    dash(f.signatureVersion),
    // Cipher suite, then (after auth type and host) TLS version: uWS does not report them.
    '-',
    dash(f.authType),
    bare(f.host),
    '-',
    // Access point ARN (hangar has no access points), aclRequired (not tracked).
    '-',
    '-',
  ].join(' ');
}
