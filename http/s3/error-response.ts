import type { Responder } from '../uws/response.js';
import type { S3Error } from './errors.js';
import { renderXml } from './xml.js';

/**
 * Renders an S3 error: `<Error><Code/><Message/>…<RequestId/></Error>` with the error's extra
 * fields and headers. HEAD answers carry no body, only the status. When the request body was
 * not read to its end, the connection is closed after the answer rather than drained.
 */
export function sendS3Error(
  res: Responder,
  error: S3Error,
  resource: string,
  head: boolean,
  bodyComplete: boolean,
): void {
  const headers: Array<[string, string]> = Object.entries(error.headers);
  if (head) {
    res.send(error.status, headers, '', { headLength: 0, close: !bodyComplete });
    return;
  }
  const xml = renderXml(
    'Error',
    {
      Code: error.code,
      Message: error.message,
      ...error.fields,
      Resource: resource,
      RequestId: res.requestId,
    },
    false,
  );
  // uWS writes `Connection: close` itself when asked to close (end's closeConnection).
  res.send(error.status, [['content-type', 'application/xml'], ...headers], xml, {
    close: !bodyComplete,
  });
}
