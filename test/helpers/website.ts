import { request } from 'node:http';

export interface WebResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A request to a server's website endpoint (127.0.0.1:`port`) with an explicit Host header
 * (`<bucket>.web.localhost`, or a bucket-named host); redirects are not followed.
 */
export function webRequest(
  port: number,
  host: string,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<WebResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: { host, ...options.headers },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
