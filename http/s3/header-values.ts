import { LIMITS } from '../../engine/limits.js';
import { isHeaderName, isHeaderValue } from '../uws/header-safety.js';
import type { HeaderSectionProblem } from '../uws/header-section.js';
import { S3Error } from './errors.js';

/**
 * Input checks for values that hangar later writes as response headers (stored object headers,
 * `response-*` overrides, website redirects, CORS rules): a control character there could split
 * a response, now or when the stored value is served, so it is refused where it enters.
 */

/** InvalidArgument unless `value` may be written as a header value. */
export function checkHeaderValue(argumentName: string, value: string): void {
  if (isHeaderValue(value)) return;
  throw new S3Error(
    'InvalidArgument',
    `The value of ${argumentName} contains a character that is not allowed in an HTTP header.`,
    // The value itself is not echoed: the XML answer could not carry its control characters.
    { ArgumentName: argumentName },
  );
}

/** InvalidArgument unless `name` may be written as a header name (an x-amz-meta-* name). */
export function checkHeaderName(name: string): void {
  if (isHeaderName(name)) return;
  throw new S3Error('InvalidArgument', 'The header name is not a valid HTTP header name.', {
    ArgumentName: name,
  });
}

/** The answer to a header section refused before routing (see readRequest). */
export function headerSectionError(problem: HeaderSectionProblem): S3Error {
  if (problem.kind === 'too-large') {
    return new S3Error('RequestHeaderSectionTooLarge', undefined, {
      MaxSizeAllowed: String(LIMITS.requestHeaderBytesMax),
    });
  }
  return new S3Error(
    'InvalidRequest',
    `The request contains more than one ${problem.name} header.`,
    { ArgumentName: problem.name },
  );
}
