/**
 * Every S3 API action as a typed endpoint, implemented or not (modelled on Garage's
 * src/api/s3/router.rs). `action` is the AWS action name exactly as in the S3 API reference
 * (plus `PostObject`, the browser-form upload, and `PreflightRequest`, the CORS OPTIONS request).
 * Each endpoint carries the parameters it takes from the URL (bucket, key, query); parameters
 * sent in headers or the body are left to the handler.
 * The HTTP bindings are those of the AWS SDK's S3 model (@aws-sdk/client-s3 3.1175.0).
 */

/** `response-*` query overrides of GetObject / HeadObject (values already decoded). */
export interface ResponseOverrides {
  readonly cacheControl?: string;
  readonly contentDisposition?: string;
  readonly contentEncoding?: string;
  readonly contentLanguage?: string;
  readonly contentType?: string;
  readonly expires?: string;
}

/** `encoding-type` is only ever `url`. */
export type EncodingType = 'url';

// ---------------------------------------------------------------------------------------------
// Service level (no bucket)

export interface ListBucketsEndpoint {
  readonly action: 'ListBuckets';
  readonly maxBuckets?: number;
  readonly continuationToken?: string;
  readonly prefix?: string;
  readonly bucketRegion?: string;
}

export interface ListDirectoryBucketsEndpoint {
  readonly action: 'ListDirectoryBuckets';
  readonly continuationToken?: string;
  readonly maxDirectoryBuckets?: number;
}

/** S3 Object Lambda: POST /WriteGetObjectResponse with the x-amz-request-route header. */
export interface WriteGetObjectResponseEndpoint {
  readonly action: 'WriteGetObjectResponse';
  readonly requestRoute: string;
  readonly requestToken?: string;
}

/** CORS preflight (OPTIONS), on a bucket, an object, or the service root. */
export interface PreflightRequestEndpoint {
  readonly action: 'PreflightRequest';
  readonly bucket: string | null;
  readonly key: string | null;
}

// ---------------------------------------------------------------------------------------------
// Bucket level

/** Bucket actions that take nothing from the URL but the bucket. */
export type PlainBucketAction =
  | 'CreateBucket'
  | 'DeleteBucket'
  | 'HeadBucket'
  | 'GetBucketLocation'
  | 'DeleteObjects'
  | 'PostObject'
  | 'CreateSession'
  | 'GetBucketAbac'
  | 'PutBucketAbac'
  | 'GetBucketAccelerateConfiguration'
  | 'PutBucketAccelerateConfiguration'
  | 'GetBucketAcl'
  | 'PutBucketAcl'
  | 'GetBucketCors'
  | 'PutBucketCors'
  | 'DeleteBucketCors'
  | 'GetBucketEncryption'
  | 'PutBucketEncryption'
  | 'DeleteBucketEncryption'
  | 'GetBucketLifecycleConfiguration'
  | 'PutBucketLifecycleConfiguration'
  | 'DeleteBucketLifecycle'
  | 'GetBucketLogging'
  | 'PutBucketLogging'
  | 'CreateBucketMetadataConfiguration'
  | 'GetBucketMetadataConfiguration'
  | 'DeleteBucketMetadataConfiguration'
  | 'CreateBucketMetadataTableConfiguration'
  | 'GetBucketMetadataTableConfiguration'
  | 'DeleteBucketMetadataTableConfiguration'
  | 'UpdateBucketMetadataAnnotationTableConfiguration'
  | 'UpdateBucketMetadataInventoryTableConfiguration'
  | 'UpdateBucketMetadataJournalTableConfiguration'
  | 'GetBucketNotificationConfiguration'
  | 'PutBucketNotificationConfiguration'
  | 'GetObjectLockConfiguration'
  | 'PutObjectLockConfiguration'
  | 'GetBucketOwnershipControls'
  | 'PutBucketOwnershipControls'
  | 'DeleteBucketOwnershipControls'
  | 'GetBucketPolicy'
  | 'PutBucketPolicy'
  | 'DeleteBucketPolicy'
  | 'GetBucketPolicyStatus'
  | 'GetPublicAccessBlock'
  | 'PutPublicAccessBlock'
  | 'DeletePublicAccessBlock'
  | 'GetBucketReplication'
  | 'PutBucketReplication'
  | 'DeleteBucketReplication'
  | 'GetBucketRequestPayment'
  | 'PutBucketRequestPayment'
  | 'GetBucketTagging'
  | 'PutBucketTagging'
  | 'DeleteBucketTagging'
  | 'GetBucketVersioning'
  | 'PutBucketVersioning'
  | 'GetBucketWebsite'
  | 'PutBucketWebsite'
  | 'DeleteBucketWebsite';

export interface PlainBucketEndpoint {
  readonly action: PlainBucketAction;
  readonly bucket: string;
}

/** Analytics / intelligent-tiering / inventory / metrics configurations, addressed by `id`. */
export type BucketConfigIdAction =
  | 'GetBucketAnalyticsConfiguration'
  | 'PutBucketAnalyticsConfiguration'
  | 'DeleteBucketAnalyticsConfiguration'
  | 'GetBucketIntelligentTieringConfiguration'
  | 'PutBucketIntelligentTieringConfiguration'
  | 'DeleteBucketIntelligentTieringConfiguration'
  | 'GetBucketInventoryConfiguration'
  | 'PutBucketInventoryConfiguration'
  | 'DeleteBucketInventoryConfiguration'
  | 'GetBucketMetricsConfiguration'
  | 'PutBucketMetricsConfiguration'
  | 'DeleteBucketMetricsConfiguration';

export interface BucketConfigIdEndpoint {
  readonly action: BucketConfigIdAction;
  readonly bucket: string;
  readonly id: string;
}

export type BucketConfigListAction =
  | 'ListBucketAnalyticsConfigurations'
  | 'ListBucketIntelligentTieringConfigurations'
  | 'ListBucketInventoryConfigurations'
  | 'ListBucketMetricsConfigurations';

export interface BucketConfigListEndpoint {
  readonly action: BucketConfigListAction;
  readonly bucket: string;
  readonly continuationToken?: string;
}

// ---------------------------------------------------------------------------------------------
// Listing

/** GET /bucket (ListObjects, v1). */
export interface ListObjectsEndpoint {
  readonly action: 'ListObjects';
  readonly bucket: string;
  readonly delimiter?: string;
  readonly encodingType?: EncodingType;
  readonly marker?: string;
  readonly maxKeys?: number;
  readonly prefix?: string;
}

/** GET /bucket?list-type=2 */
export interface ListObjectsV2Endpoint {
  readonly action: 'ListObjectsV2';
  readonly bucket: string;
  readonly continuationToken?: string;
  readonly delimiter?: string;
  readonly encodingType?: EncodingType;
  readonly fetchOwner?: boolean;
  readonly maxKeys?: number;
  readonly prefix?: string;
  readonly startAfter?: string;
}

/** GET /bucket?versions */
export interface ListObjectVersionsEndpoint {
  readonly action: 'ListObjectVersions';
  readonly bucket: string;
  readonly delimiter?: string;
  readonly encodingType?: EncodingType;
  readonly keyMarker?: string;
  readonly maxKeys?: number;
  readonly prefix?: string;
  readonly versionIdMarker?: string;
}

/** GET /bucket?uploads */
export interface ListMultipartUploadsEndpoint {
  readonly action: 'ListMultipartUploads';
  readonly bucket: string;
  readonly delimiter?: string;
  readonly encodingType?: EncodingType;
  readonly keyMarker?: string;
  readonly maxUploads?: number;
  readonly prefix?: string;
  readonly uploadIdMarker?: string;
}

// ---------------------------------------------------------------------------------------------
// Object level

/** GET /bucket/key, HEAD /bucket/key */
export interface GetObjectEndpoint {
  readonly action: 'GetObject' | 'HeadObject';
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  /** 1..10000 */
  readonly partNumber?: number;
  readonly responseOverrides: ResponseOverrides;
}

/** Object actions that take nothing from the URL but bucket and key. */
export type PlainObjectAction =
  | 'PutObject'
  | 'CopyObject'
  | 'CreateMultipartUpload'
  | 'RenameObject';

export interface PlainObjectEndpoint {
  readonly action: PlainObjectAction;
  readonly bucket: string;
  readonly key: string;
}

/** Object actions whose only query parameter is an optional `versionId`. */
export type VersionedObjectAction =
  | 'GetObjectTorrent'
  | 'DeleteObject'
  | 'GetObjectAcl'
  | 'PutObjectAcl'
  | 'GetObjectTagging'
  | 'PutObjectTagging'
  | 'DeleteObjectTagging'
  | 'GetObjectLegalHold'
  | 'PutObjectLegalHold'
  | 'GetObjectRetention'
  | 'PutObjectRetention'
  | 'GetObjectAttributes'
  | 'RestoreObject'
  | 'UpdateObjectEncryption';

export interface VersionedObjectEndpoint {
  readonly action: VersionedObjectAction;
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

/** POST /bucket/key?select&select-type=2 */
export interface SelectObjectContentEndpoint {
  readonly action: 'SelectObjectContent';
  readonly bucket: string;
  readonly key: string;
  /** Always '2'. */
  readonly selectType: '2';
}

export interface ObjectAnnotationEndpoint {
  readonly action: 'GetObjectAnnotation' | 'PutObjectAnnotation' | 'DeleteObjectAnnotation';
  readonly bucket: string;
  readonly key: string;
  readonly annotationName: string;
  readonly versionId?: string;
}

export interface ListObjectAnnotationsEndpoint {
  readonly action: 'ListObjectAnnotations';
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  readonly maxAnnotationResults?: number;
  readonly annotationPrefix?: string;
  readonly continuationToken?: string;
}

// ---------------------------------------------------------------------------------------------
// Multipart

/** PUT /bucket/key?partNumber&uploadId (UploadPartCopy: with x-amz-copy-source). */
export interface UploadPartEndpoint {
  readonly action: 'UploadPart' | 'UploadPartCopy';
  readonly bucket: string;
  readonly key: string;
  /** 1..10000 */
  readonly partNumber: number;
  readonly uploadId: string;
}

/** POST /bucket/key?uploadId, DELETE /bucket/key?uploadId */
export interface UploadIdEndpoint {
  readonly action: 'CompleteMultipartUpload' | 'AbortMultipartUpload';
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
}

/** GET /bucket/key?uploadId */
export interface ListPartsEndpoint {
  readonly action: 'ListParts';
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly maxParts?: number;
  readonly partNumberMarker?: number;
}

export type Endpoint =
  | ListBucketsEndpoint
  | ListDirectoryBucketsEndpoint
  | WriteGetObjectResponseEndpoint
  | PreflightRequestEndpoint
  | PlainBucketEndpoint
  | BucketConfigIdEndpoint
  | BucketConfigListEndpoint
  | ListObjectsEndpoint
  | ListObjectsV2Endpoint
  | ListObjectVersionsEndpoint
  | ListMultipartUploadsEndpoint
  | GetObjectEndpoint
  | PlainObjectEndpoint
  | VersionedObjectEndpoint
  | SelectObjectContentEndpoint
  | ObjectAnnotationEndpoint
  | ListObjectAnnotationsEndpoint
  | UploadPartEndpoint
  | UploadIdEndpoint
  | ListPartsEndpoint;

export type S3Action = Endpoint['action'];

/** The endpoint of a given action, e.g. `EndpointOf<'GetObject'>`. */
export type EndpointOf<A extends S3Action> = Extract<Endpoint, { readonly action: A }> & {
  readonly action: A;
};

/**
 * What a request needs from its access key:
 * - 'none': any authenticated key (ListBuckets; also the unsigned PreflightRequest, which the
 *   caller must let through before signature checking);
 * - 'create-bucket': the key's create-bucket permission;
 * - 'read' / 'write': that permission on the bucket;
 * - 'owner': the owner permission on the bucket (bucket configuration, DeleteBucket).
 */
export type Authorization = 'none' | 'read' | 'write' | 'owner' | 'create-bucket';

const AUTHORIZATION: Readonly<Record<S3Action, Authorization>> = {
  // Service
  ListBuckets: 'none',
  ListDirectoryBuckets: 'none',
  WriteGetObjectResponse: 'none',
  PreflightRequest: 'none',
  // Bucket lifecycle
  CreateBucket: 'create-bucket',
  DeleteBucket: 'owner',
  HeadBucket: 'read',
  GetBucketLocation: 'read',
  CreateSession: 'read',
  // Listing
  ListObjects: 'read',
  ListObjectsV2: 'read',
  ListObjectVersions: 'read',
  ListMultipartUploads: 'read',
  ListParts: 'read',
  // Object reads
  GetObject: 'read',
  HeadObject: 'read',
  GetObjectAcl: 'read',
  GetObjectTagging: 'read',
  GetObjectLegalHold: 'read',
  GetObjectRetention: 'read',
  GetObjectAttributes: 'read',
  GetObjectTorrent: 'read',
  GetObjectAnnotation: 'read',
  ListObjectAnnotations: 'read',
  SelectObjectContent: 'read',
  // Object writes
  PutObject: 'write',
  CopyObject: 'write',
  PostObject: 'write',
  DeleteObject: 'write',
  DeleteObjects: 'write',
  RenameObject: 'write',
  RestoreObject: 'write',
  UpdateObjectEncryption: 'write',
  PutObjectAcl: 'write',
  PutObjectTagging: 'write',
  DeleteObjectTagging: 'write',
  PutObjectLegalHold: 'write',
  PutObjectRetention: 'write',
  PutObjectAnnotation: 'write',
  DeleteObjectAnnotation: 'write',
  // Multipart
  CreateMultipartUpload: 'write',
  UploadPart: 'write',
  UploadPartCopy: 'write',
  CompleteMultipartUpload: 'write',
  AbortMultipartUpload: 'write',
  // Bucket configuration
  GetBucketAbac: 'owner',
  PutBucketAbac: 'owner',
  GetBucketAccelerateConfiguration: 'owner',
  PutBucketAccelerateConfiguration: 'owner',
  GetBucketAcl: 'owner',
  PutBucketAcl: 'owner',
  GetBucketCors: 'owner',
  PutBucketCors: 'owner',
  DeleteBucketCors: 'owner',
  GetBucketEncryption: 'owner',
  PutBucketEncryption: 'owner',
  DeleteBucketEncryption: 'owner',
  GetBucketLifecycleConfiguration: 'owner',
  PutBucketLifecycleConfiguration: 'owner',
  DeleteBucketLifecycle: 'owner',
  GetBucketLogging: 'owner',
  PutBucketLogging: 'owner',
  CreateBucketMetadataConfiguration: 'owner',
  GetBucketMetadataConfiguration: 'owner',
  DeleteBucketMetadataConfiguration: 'owner',
  CreateBucketMetadataTableConfiguration: 'owner',
  GetBucketMetadataTableConfiguration: 'owner',
  DeleteBucketMetadataTableConfiguration: 'owner',
  UpdateBucketMetadataAnnotationTableConfiguration: 'owner',
  UpdateBucketMetadataInventoryTableConfiguration: 'owner',
  UpdateBucketMetadataJournalTableConfiguration: 'owner',
  GetBucketNotificationConfiguration: 'owner',
  PutBucketNotificationConfiguration: 'owner',
  GetObjectLockConfiguration: 'owner',
  PutObjectLockConfiguration: 'owner',
  GetBucketOwnershipControls: 'owner',
  PutBucketOwnershipControls: 'owner',
  DeleteBucketOwnershipControls: 'owner',
  GetBucketPolicy: 'owner',
  PutBucketPolicy: 'owner',
  DeleteBucketPolicy: 'owner',
  GetBucketPolicyStatus: 'owner',
  GetPublicAccessBlock: 'owner',
  PutPublicAccessBlock: 'owner',
  DeletePublicAccessBlock: 'owner',
  GetBucketReplication: 'owner',
  PutBucketReplication: 'owner',
  DeleteBucketReplication: 'owner',
  GetBucketRequestPayment: 'owner',
  PutBucketRequestPayment: 'owner',
  GetBucketTagging: 'owner',
  PutBucketTagging: 'owner',
  DeleteBucketTagging: 'owner',
  GetBucketVersioning: 'owner',
  PutBucketVersioning: 'owner',
  GetBucketWebsite: 'owner',
  PutBucketWebsite: 'owner',
  DeleteBucketWebsite: 'owner',
  GetBucketAnalyticsConfiguration: 'owner',
  PutBucketAnalyticsConfiguration: 'owner',
  DeleteBucketAnalyticsConfiguration: 'owner',
  ListBucketAnalyticsConfigurations: 'owner',
  GetBucketIntelligentTieringConfiguration: 'owner',
  PutBucketIntelligentTieringConfiguration: 'owner',
  DeleteBucketIntelligentTieringConfiguration: 'owner',
  ListBucketIntelligentTieringConfigurations: 'owner',
  GetBucketInventoryConfiguration: 'owner',
  PutBucketInventoryConfiguration: 'owner',
  DeleteBucketInventoryConfiguration: 'owner',
  ListBucketInventoryConfigurations: 'owner',
  GetBucketMetricsConfiguration: 'owner',
  PutBucketMetricsConfiguration: 'owner',
  DeleteBucketMetricsConfiguration: 'owner',
  ListBucketMetricsConfigurations: 'owner',
};

/** Every action the router can produce, in a stable order. */
export const S3_ACTIONS: readonly S3Action[] = Object.freeze(
  Object.keys(AUTHORIZATION) as S3Action[],
);

export function authorizationOf(e: Endpoint): Authorization {
  return AUTHORIZATION[e.action];
}

/** The AWS action name (for logs and metrics). */
export function endpointName(e: Endpoint): S3Action {
  return e.action;
}

/** The bucket an endpoint targets, or null for service-level endpoints. */
export function endpointBucket(e: Endpoint): string | null {
  return 'bucket' in e ? e.bucket : null;
}

/** The object key an endpoint targets, or null for service- and bucket-level endpoints. */
export function endpointKey(e: Endpoint): string | null {
  return 'key' in e ? e.key : null;
}
