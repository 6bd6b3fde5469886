import type { S3ErrorCode } from '../s3/errors.js';

/**
 * A SQL expression the lexer, parser or evaluator refuses: an AWS Select error code, and where
 * in the expression (character offset) when known. The handler turns it into an S3Error before
 * the answer begins, or an error event after.
 */
export class SelectSqlError extends Error {
  constructor(
    readonly code: S3ErrorCode,
    readonly at: number | null = null,
    detail?: string,
  ) {
    super(detail ?? code);
    this.name = 'SelectSqlError';
  }
}
