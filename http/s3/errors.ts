/**
 * THE table of S3 errors: every code hangar answers, with its HTTP status and AWS's message.
 * Codes and statuses follow the AWS S3 API reference, "Error responses" (ErrorResponses.html).
 * Non-AWS codes carry a `// non-AWS:` comment giving their precedent.
 */
export const S3_ERRORS = {
  AccessDenied: { status: 403, message: 'Access Denied' },
  // A CORS preflight (OPTIONS) the bucket's CORS rules refuse; AWS's text, its typo included.
  // ACLs on a bucket whose ownership is BucketOwnerEnforced (ACLs disabled).
  AccessControlListNotSupported: { status: 400, message: 'The bucket does not allow ACLs' },
  AccessForbidden: {
    status: 403,
    message:
      "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
  },
  AuthorizationHeaderMalformed: {
    status: 400,
    message: 'The authorization header you provided is invalid.',
  },
  AuthorizationQueryParametersError: {
    status: 400,
    message: 'Error parsing the X-Amz-Credential parameter.',
  },
  // AWS answers more than 10 object tags with this code ("Object tags cannot be greater than 10").
  BadRequest: { status: 400, message: 'An error occurred when parsing the HTTP request.' },
  BadDigest: {
    status: 400,
    message: 'The Content-MD5 or checksum value that you specified did not match what we received.',
  },
  BucketAlreadyExists: {
    status: 409,
    message:
      'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
  },
  BucketAlreadyOwnedByYou: {
    status: 409,
    message: 'Your previous request to create the named bucket succeeded and you already own it.',
  },
  BucketNotEmpty: { status: 409, message: 'The bucket you tried to delete is not empty' },
  // A conditional write (If-Match / If-None-Match) lost to a write or delete of the same key
  // that committed while it was under way (AWS, 2024: PutObject, CompleteMultipartUpload).
  ConditionalRequestConflict: {
    status: 409,
    message:
      'The conditional request cannot succeed due to a conflicting operation against this resource.',
  },
  EntityTooLarge: {
    status: 400,
    message: 'Your proposed upload exceeds the maximum allowed object size.',
  },
  EntityTooSmall: {
    status: 400,
    message: 'Your proposed upload is smaller than the minimum allowed object size.',
  },
  ExpiredToken: { status: 400, message: 'The provided token has expired.' },
  IllegalLocationConstraintException: {
    status: 400,
    message:
      'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.',
  },
  IncompleteBody: {
    status: 400,
    message: 'You did not provide the number of bytes specified by the Content-Length HTTP header.',
  },
  InternalError: {
    status: 500,
    message: 'We encountered an internal error. Please try again.',
  },
  InvalidAccessKeyId: {
    status: 403,
    message: 'The AWS access key ID you provided does not exist in our records.',
  },
  // BucketOwnerEnforced asked of a bucket whose ACL grants anyone but its owner.
  InvalidBucketAclWithObjectOwnership: {
    status: 400,
    message: "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
  },
  InvalidArgument: { status: 400, message: 'Invalid Argument' },
  // PutBucketLogging naming a target bucket that does not exist (AWS's message for the code).
  InvalidTargetBucketForLogging: {
    status: 400,
    message:
      'The target bucket for logging does not exist, is not owned by you, or does not have the appropriate grants for the log-delivery group.',
  },
  InvalidBucketName: { status: 400, message: 'The specified bucket is not valid.' },
  InvalidBucketState: {
    status: 409,
    message: 'The request is not valid with the current state of the bucket.',
  },
  InvalidChunkSizeError: {
    status: 400,
    message: 'Only the last chunk is allowed to have a size less than 8192 bytes',
  },
  InvalidDigest: {
    status: 400,
    message: 'The Content-MD5 or checksum value that you specified is not valid.',
  },
  InvalidLocationConstraint: {
    status: 400,
    message: 'The specified location constraint is not valid.',
  },
  InvalidPart: {
    status: 400,
    message:
      "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
  },
  InvalidPartOrder: {
    status: 400,
    message:
      'The list of parts was not in ascending order. The parts list must be specified in order by part number.',
  },
  InvalidPolicyDocument: {
    status: 400,
    message:
      'The content of the form does not meet the conditions specified in the policy document.',
  },
  InvalidPartNumber: { status: 416, message: 'The requested partnumber is not satisfiable' },
  InvalidRange: { status: 416, message: 'The requested range is not satisfiable' },
  InvalidRequest: { status: 400, message: 'Invalid Request' },
  InvalidTag: {
    status: 400,
    message:
      'Your request contains tag input that is not valid. For example, your request might contain duplicate keys, keys or values that are too long, or system tags.',
  },
  InvalidObjectState: {
    status: 403,
    message: "The operation is not valid for the object's storage class",
  },
  RestoreAlreadyInProgress: { status: 409, message: 'Object restore is already in progress' },
  InvalidStorageClass: {
    status: 400,
    message: 'The storage class you specified is not valid.',
  },
  InvalidURI: { status: 400, message: "Couldn't parse the specified URI." },
  // AWS's text has no final period.
  // SSE-KMS: the object's (or the request's) KMS key is disabled; AWS's code and status.
  'KMS.DisabledException': { status: 403, message: 'The KMS key is disabled.' },
  // SSE-KMS: x-amz-server-side-encryption-aws-kms-key-id names no key.
  'KMS.NotFoundException': { status: 400, message: 'Invalid keyId' },
  // SSE-KMS: the key is pending deletion (ScheduleKmsKeyDeletion); KMS's code and status.
  'KMS.KMSInvalidStateException': { status: 400, message: 'The KMS key is pending deletion.' },
  KeyTooLongError: { status: 400, message: 'Your key is too long' },
  MalformedXML: {
    status: 400,
    message:
      'The XML you provided was not well-formed or did not validate against our published schema.',
  },
  MalformedTrailerError: {
    status: 400,
    message:
      'The request contained trailing data that was not well-formed or did not conform to our published schema.',
  },
  MalformedPOSTRequest: {
    status: 400,
    message: 'The body of your POST request is not well-formed multipart/form-data.',
  },
  NoSuchObjectLockConfiguration: {
    status: 404,
    message: 'The specified object does not have a ObjectLock configuration',
  },
  ObjectLockConfigurationNotFoundError: {
    status: 404,
    message: 'Object Lock configuration does not exist for this bucket',
  },
  // An AccessControlPolicy document that is not XML or not AWS's schema (PutBucketAcl, PutObjectAcl).
  MalformedACLError: {
    status: 400,
    message:
      'The XML you provided was not well-formed or did not validate against our published schema',
  },
  MalformedPolicy: {
    status: 400,
    message: "Policies must be valid JSON and the first byte must be '{'",
  },
  MaxMessageLengthExceeded: { status: 400, message: 'Your request was too big.' },
  MaxPostPreDataLengthExceededError: {
    status: 400,
    message: 'Your POST request fields preceding the upload file were too large.',
  },
  MetadataTooLarge: {
    status: 400,
    message: 'Your metadata headers exceed the maximum allowed metadata size.',
  },
  MethodNotAllowed: {
    status: 405,
    message: 'The specified method is not allowed against this resource.',
  },
  MissingContentLength: {
    status: 411,
    message: 'You must provide the Content-Length HTTP header.',
  },
  MissingSecurityHeader: { status: 400, message: 'Your request is missing a required header.' },
  // GetBucketOwnershipControls on a bucket without them (AWS's code, with its capitalisation).
  OwnershipControlsNotFoundError: {
    status: 404,
    message: 'The bucket ownership controls were not found',
  },
  ReplicationConfigurationNotFoundError: {
    status: 404,
    message: 'The replication configuration was not found',
  },
  NoSuchCORSConfiguration: { status: 404, message: 'The CORS configuration does not exist' },
  // Get/Delete of an analytics, metrics or inventory configuration id the bucket lacks.
  NoSuchConfiguration: { status: 404, message: 'The specified configuration does not exist.' },
  NoSuchBucket: { status: 404, message: 'The specified bucket does not exist' },
  NoSuchKey: { status: 404, message: 'The specified key does not exist.' },
  NoSuchLifecycleConfiguration: {
    status: 404,
    message: 'The lifecycle configuration does not exist',
  },
  NoSuchTagSet: { status: 404, message: 'The TagSet does not exist' },
  NoSuchBucketPolicy: { status: 404, message: 'The bucket policy does not exist' },
  NoSuchPublicAccessBlockConfiguration: {
    status: 404,
    message: 'The public access block configuration was not found',
  },
  NoSuchWebsiteConfiguration: {
    status: 404,
    message: 'The specified bucket does not have a website configuration',
  },
  NoSuchUpload: {
    status: 404,
    message:
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  },
  NoSuchVersion: { status: 404, message: 'The specified version does not exist.' },
  NotImplemented: {
    status: 501,
    message: 'A header you provided implies functionality that is not implemented.',
  },
  NotModified: { status: 304, message: 'Not Modified' },
  PreconditionFailed: {
    status: 412,
    message: 'At least one of the preconditions you specified did not hold.',
  },
  RequestHeaderSectionTooLarge: {
    status: 400,
    message: 'Your request header section exceeds the maximum allowed size.',
  },
  RequestTimeTooSkewed: {
    status: 403,
    message: "The difference between the request time and the server's time is too large.",
  },
  RequestTimeout: {
    status: 400,
    message:
      'Your socket connection to the server was not read from or written to within the timeout period.',
  },
  // A 1,001st analytics, metrics or inventory configuration on one bucket.
  TooManyConfigurations: {
    status: 400,
    message:
      'You are attempting to create a new configuration but have already reached the 1,000-configuration limit.',
  },
  SignatureDoesNotMatch: {
    status: 403,
    message:
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  },
  // AWS's code for a transient failure; hangar answers it while a shard thread restarts.
  ServerSideEncryptionConfigurationNotFoundError: {
    status: 404,
    message: 'The server side encryption configuration was not found',
  },
  ServiceUnavailable: { status: 503, message: 'Service is unable to handle request.' },
  SlowDown: { status: 503, message: 'Please reduce your request rate.' },
  // non-AWS: disk full. Precedent: MinIO's XMinioStorageFull / HTTP 507 Insufficient Storage.
  // An ACL grant by e-mail address: AWS resolves those only in a few old regions.
  UnresolvableGrantByEmailAddress: {
    status: 400,
    message: 'The email address you provided does not match any account on record.',
  },
  // ---- SelectObjectContent (AWS "List of SELECT Object Content Error Codes") ----
  CastFailed: {
    status: 400,
    message:
      'Attempt to convert from one data type to another using CAST failed in the SQL expression.',
  },
  CSVParsingError: { status: 400, message: 'Encountered an error parsing the CSV file.' },
  EvaluatorInvalidArguments: {
    status: 400,
    message: 'Incorrect number of arguments in the function call in the SQL expression.',
  },
  EvaluatorInvalidTimestampFormatPattern: {
    status: 400,
    message: 'Time stamp format pattern requires additional fields in the SQL expression.',
  },
  ExpressionTooLong: {
    status: 400,
    message:
      'The SQL expression is too long: The maximum byte-length for the SQL expression is 256 KB.',
  },
  IncorrectSqlFunctionArgumentType: {
    status: 400,
    message: 'Incorrect type of arguments in function call in the SQL expression.',
  },
  InvalidColumnIndex: {
    status: 400,
    message: 'The column index is invalid. Please check the service documentation and try again.',
  },
  InvalidCompressionFormat: {
    status: 400,
    message:
      'The file is not in a supported compression format. Only GZIP and BZIP2 are supported.',
  },
  InvalidExpressionType: {
    status: 400,
    message: 'The ExpressionType is invalid. Only SQL expressions are supported.',
  },
  InvalidFileHeaderInfo: {
    status: 400,
    message: 'The FileHeaderInfo is invalid. Only NONE, USE, and IGNORE are supported.',
  },
  InvalidJsonType: {
    status: 400,
    message: 'The JsonType is invalid. Only DOCUMENT and LINES are supported.',
  },
  InvalidQuoteFields: {
    status: 400,
    message: 'The QuoteFields is invalid. Only ALWAYS and ASNEEDED are supported.',
  },
  InvalidRequestParameter: {
    status: 400,
    message:
      'The value of a parameter in SelectRequest element is invalid. Check the service documentation and try again.',
  },
  JSONParsingError: { status: 400, message: 'Encountered an error parsing the JSON file.' },
  LexerInvalidChar: { status: 400, message: 'The SQL expression contains an invalid character.' },
  LexerInvalidLiteral: {
    status: 400,
    message: 'The SQL expression contains an invalid literal.',
  },
  MissingRequiredParameter: {
    status: 400,
    message:
      'The SelectRequest entity is missing a required parameter. Check the service documentation and try again.',
  },
  OverMaxRecordSize: {
    status: 400,
    message:
      'The length of a record in the input or result is greater than maxCharsPerRecord of 1 MB.',
  },
  OverMaxParquetBlockSize: {
    status: 400,
    message: 'The Parquet file is above the max row group size.',
  },
  ParquetParsingError: {
    status: 400,
    message: 'An error occurred while parsing the Parquet file. Check the file and try again.',
  },
  ParquetUnsupportedCompressionCodec: {
    status: 400,
    message: 'The specified Parquet compression codec is not supported.',
  },
  ParseExpectedExpression: {
    status: 400,
    message: 'Did not find the expected SQL expression.',
  },
  ParseExpectedKeyword: {
    status: 400,
    message: 'Did not find the expected keyword in the SQL expression.',
  },
  ParseExpectedTypeName: {
    status: 400,
    message: 'Did not find the expected type name in the SQL expression.',
  },
  ParseSelectMissingFrom: {
    status: 400,
    message: 'The SQL expression contains a missing FROM after SELECT list.',
  },
  ParseUnexpectedToken: {
    status: 400,
    message: 'The SQL expression contains an unexpected token.',
  },
  ParseUnsupportedSyntax: {
    status: 400,
    message: 'The SQL expression contains unsupported syntax.',
  },
  TruncatedInput: {
    status: 400,
    message:
      'Object decompression failed. Check that the object is properly compressed using the format specified in the request.',
  },
  UnsupportedFunction: { status: 400, message: 'Encountered an unsupported SQL function.' },
  UnsupportedParquetType: {
    status: 400,
    message: 'The specified Parquet type is not supported.',
  },
  UnsupportedScanRangeInput: {
    status: 400,
    message: 'Scan range queries are not supported on this type of object.',
  },
  XHangarStorageFull: {
    status: 507,
    message:
      'Storage backend has reached its minimum free drive threshold. Please delete a few objects to proceed.',
  },
  XAmzContentSHA256Mismatch: {
    status: 400,
    message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type S3ErrorCode = keyof typeof S3_ERRORS;

/** Extra XML fields some errors carry (e.g. <Key>, <BucketName>, <ArgumentName>). */
export type S3ErrorFields = Readonly<Record<string, string>>;

export class S3Error extends Error {
  readonly code: S3ErrorCode;
  readonly status: number;
  readonly fields: S3ErrorFields;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: S3ErrorCode,
    message?: string,
    fields: S3ErrorFields = {},
    headers: Readonly<Record<string, string>> = {},
  ) {
    super(message ?? S3_ERRORS[code].message);
    this.name = 'S3Error';
    this.code = code;
    this.status = S3_ERRORS[code].status;
    this.fields = fields;
    this.headers = headers;
  }
}

export function isS3Error(value: unknown): value is S3Error {
  return value instanceof S3Error;
}
