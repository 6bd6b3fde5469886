// A bucket's settings page: its S3 configurations as forms with their XML beside them (CORS,
// lifecycle, tagging, website, default encryption, versioning and object lock), the policy as
// JSON, and for an operator the admin API's quotas and global aliases.
import { BucketAliases } from './bucket-aliases.js';
import { BucketCors } from './bucket-cors.js';
import { BucketDocuments, BucketQuotas } from './bucket-documents.js';
import { BucketEncryption } from './bucket-encryption.js';
import { BucketLifecycle } from './bucket-lifecycle.js';
import { BucketProtection } from './bucket-protection.js';
import { BucketTagging } from './bucket-tagging.js';
import { BucketWebsite } from './bucket-website.js';
import type { PageProps } from './main.js';

export function BucketSettings({ s3, session, bucket }: PageProps & { bucket: string }) {
  if (s3 === null) {
    return (
      <section aria-labelledby="settings-title">
        <h1 id="settings-title">{bucket} / settings</h1>
        {session.adminToken !== null && (
          <OperatorSettings token={session.adminToken} bucket={bucket} />
        )}
        <p role="alert">Bucket settings need S3 keys.</p>
      </section>
    );
  }
  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">
        <a href="#/buckets">Buckets</a> /{' '}
        <a href={`#/buckets/${encodeURIComponent(bucket)}`}>{bucket}</a> / settings
      </h1>
      <BucketCors s3={s3} bucket={bucket} />
      <BucketLifecycle s3={s3} bucket={bucket} />
      <BucketTagging s3={s3} bucket={bucket} />
      <BucketWebsite s3={s3} bucket={bucket} />
      <BucketEncryption s3={s3} bucket={bucket} adminToken={session.adminToken} />
      <BucketProtection s3={s3} bucket={bucket} />
      {session.adminToken !== null && (
        <OperatorSettings token={session.adminToken} bucket={bucket} />
      )}
      <BucketDocuments s3={s3} bucket={bucket} />
    </section>
  );
}

/** What only the admin API sets: quotas and global aliases. */
function OperatorSettings({ token, bucket }: { token: string; bucket: string }) {
  return (
    <>
      <BucketQuotas token={token} bucket={bucket} />
      <BucketAliases token={token} bucket={bucket} />
    </>
  );
}
