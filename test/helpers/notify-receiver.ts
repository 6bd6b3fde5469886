import { createHmac } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REGION } from './server.js';

/** Test helpers for S3 event notifications (test/s3/notifications.test.ts). */

export const SECRET = 'test-hmac-secret';
const ACCOUNT = '000000000000';
export const queueArn = (name: string): string => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
export const topicArn = (name: string): string => `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`;
export const lambdaArn = (name: string): string =>
  `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;

export interface EventRecord {
  eventVersion: string;
  eventSource: string;
  awsRegion: string;
  eventTime: string;
  eventName: string;
  userIdentity: { principalId: string };
  requestParameters: { sourceIPAddress: string };
  responseElements: Record<string, string>;
  s3: {
    s3SchemaVersion: string;
    configurationId: string;
    bucket: { name: string; ownerIdentity: { principalId: string }; arn: string };
    object: { key: string; size?: number; eTag?: string; versionId?: string; sequencer: string };
  };
}

/** AWS's s3:TestEvent message, sent to each target a configuration newly names. */
export interface TestEvent {
  Service: string;
  Event: string;
  Time: string;
  Bucket: string;
  RequestId: string;
  HostId: string;
}

/**
 * A webhook target run by the test: records every event it acknowledges, checks each body's
 * HMAC when the path is the signed one, and answers 503 on paths marked down.
 */
export class Receiver {
  readonly events: EventRecord[] = [];
  /** Test events with the path they came to. */
  readonly testEvents: Array<TestEvent & { path: string }> = [];
  readonly down = new Set<string>();
  rejected = 0;
  badSignatures = 0;
  private constructor(readonly server: Server) {}

  static async start(port = 0): Promise<Receiver> {
    let receiver: Receiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => receiver?.take(req.url ?? '', req.headers, Buffer.concat(chunks), res));
    });
    receiver = new Receiver(server);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  private take(
    path: string,
    headers: Record<string, string | string[] | undefined>,
    body: Buffer,
    res: ServerResponse,
  ): void {
    if (this.down.has(path)) {
      this.rejected++;
      res.writeHead(503).end();
      return;
    }
    if (path === '/signed') {
      const expected = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
      if (headers['x-hangar-signature'] !== expected) this.badSignatures++;
    }
    const message = JSON.parse(body.toString('utf8')) as { Records?: EventRecord[] } & TestEvent;
    if (message.Records === undefined) this.testEvents.push({ ...message, path });
    else this.events.push(...message.Records);
    res.writeHead(200).end();
  }

  of(bucket: string): EventRecord[] {
    return this.events.filter((event) => event.s3.bucket.name === bucket);
  }

  /** Waits until `bucket` has at least `count` events (or fails after `ms`). */
  async waitFor(bucket: string, count: number, ms = 15_000): Promise<EventRecord[]> {
    const until = Date.now() + ms;
    while (this.of(bucket).length < count) {
      if (Date.now() > until) {
        throw new Error(`${bucket}: ${this.of(bucket).length} of ${count} events arrived`);
      }
      await sleep(50);
    }
    return this.of(bucket);
  }

  /** Waits until `bucket` has at least `count` test events (or fails after `ms`). */
  async waitForTests(bucket: string, count: number, ms = 15_000): Promise<TestEvent[]> {
    const until = Date.now() + ms;
    const of = (): TestEvent[] => this.testEvents.filter((event) => event.Bucket === bucket);
    while (of().length < count) {
      if (Date.now() > until) throw new Error(`${bucket}: ${of().length} of ${count} test events`);
      await sleep(50);
    }
    return of();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function targetsEnv(receiver: Receiver): Record<string, string> {
  const base = `http://127.0.0.1:${receiver.port}`;
  return {
    HANGAR_NOTIFY_TARGETS: `signed=${base}/signed#hmac=${SECRET};plain=${base}/plain;flaky=${base}/flaky`,
  };
}
