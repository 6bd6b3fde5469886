/**
 * S3 bucket naming rules (general purpose buckets). Pure, shared by the CLI and the CreateBucket
 * handler. Returns the reason a name is invalid, or null when it is valid.
 */

const FORBIDDEN_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'] as const;
const FORBIDDEN_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'] as const;
const IPV4_LIKE = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** S3's longest bucket name: no longer name can be stored, so none is ever looked up. */
export const BUCKET_NAME_CHARS_MAX = 63;

export function validateBucketName(name: string): string | null {
  if (name.length < 3 || name.length > BUCKET_NAME_CHARS_MAX)
    return 'bucket names must be 3 to 63 characters long';
  if (!/^[a-z0-9.-]+$/.test(name)) {
    return 'bucket names may contain only lowercase letters, digits, dots and hyphens';
  }
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) {
    return 'bucket names must begin and end with a letter or digit';
  }
  if (name.includes('..')) return 'bucket names must not contain two adjacent dots';
  if (IPV4_LIKE.test(name)) return 'bucket names must not be formatted as an IP address';
  for (const prefix of FORBIDDEN_PREFIXES) {
    if (name.startsWith(prefix)) return `bucket names must not start with '${prefix}'`;
  }
  for (const suffix of FORBIDDEN_SUFFIXES) {
    if (name.endsWith(suffix)) return `bucket names must not end with '${suffix}'`;
  }
  return null;
}
