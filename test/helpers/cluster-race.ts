import { randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { failureOf, sha256, sleep } from './cluster-load.js';

/**
 * The lost-write loop's conditional half (cluster-design.md §5): writers on several gateways
 * race `PutObject If-None-Match: *` on the same keys. Each key must end with exactly one
 * acknowledged create, holding that writer's bytes, through every gateway.
 */

export interface RaceWriter {
  readonly id: string;
  /** Its own gateway's client first; an attempt that gets no answer or a 5xx moves on. */
  readonly clients: readonly S3Client[];
}

export interface RaceOutcome {
  /** key -> the writers that got 200 (more than one is a double create). */
  readonly wins: Map<string, string[]>;
  /** key -> writers with an attempt that got no answer (it may have created the key). */
  readonly ambiguous: Map<string, Set<string>>;
  /** `${writer} ${key}` -> SHA-256 of the body that writer sent. */
  readonly bodies: Map<string, string>;
  /** Answers that are none of 200, 412, a retried 409 ConditionalRequestConflict or 5xx. */
  readonly unexpected: string[];
  /** (writer, key) pairs decided so far: lets a test act mid-race. */
  settled: number;
}

/**
 * Every writer tries to create every key once (in its own random order, so every key is
 * contested), retrying 409 ConditionalRequestConflict (AWS: retry) and unanswered or 5xx attempts
 * until `deadlineMs` per key.
 */
export function raceCreates(
  writers: readonly RaceWriter[],
  bucket: string,
  keys: readonly string[],
  deadlineMs: number,
): { outcome: RaceOutcome; done: Promise<RaceOutcome> } {
  const outcome: RaceOutcome = {
    wins: new Map(),
    ambiguous: new Map(),
    bodies: new Map(),
    unexpected: [],
    settled: 0,
  };
  const done = Promise.all(
    writers.map(async (writer) => {
      const order = [...keys].sort(() => Math.random() - 0.5);
      for (const key of order) {
        await createOnce(writer, bucket, key, deadlineMs, outcome);
        outcome.settled += 1;
      }
    }),
  ).then(() => outcome);
  return { outcome, done };
}

async function createOnce(
  { id, clients }: RaceWriter,
  bucket: string,
  key: string,
  deadlineMs: number,
  outcome: RaceOutcome,
): Promise<void> {
  const body = randomBytes(1 + Math.floor(Math.random() * 64 * 1024));
  outcome.bodies.set(`${id} ${key}`, sha256(body));
  const deadline = performance.now() + deadlineMs;
  for (let attempt = 0; ; attempt++) {
    const s3 = clients[attempt % clients.length];
    if (s3 === undefined) throw new Error(`race writer ${id} has no clients`);
    try {
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, IfNoneMatch: '*' }),
      );
      outcome.wins.set(key, [...(outcome.wins.get(key) ?? []), id]);
      return;
    } catch (error) {
      const { status, name } = failureOf(error);
      if (status === 412 && name === 'PreconditionFailed') return;
      const inTime = performance.now() < deadline;
      if (status === 409 && name === 'ConditionalRequestConflict' && inTime) {
        attempt -= 1; // the same gateway answered: stay on it
        await sleep(50);
        continue;
      }
      if ((status === 0 || status >= 500) && inTime) {
        // No answer: this attempt may have created the key, so a later 412 says nothing about
        // whose bytes are stored.
        outcome.ambiguous.set(key, (outcome.ambiguous.get(key) ?? new Set()).add(id));
        // The next gateway at once; a pause only once every gateway failed in turn.
        if (attempt % clients.length === clients.length - 1) await sleep(250);
        continue;
      }
      outcome.unexpected.push(`${id} ${key}: ${status} ${name}`);
      return;
    }
  }
}

/** The keys that, read through `s3`, do not hold their one winner's bytes (lost or overwritten). */
export async function wrongWinners(
  s3: S3Client,
  bucket: string,
  keys: readonly string[],
  outcome: RaceOutcome,
): Promise<string[]> {
  const wrong: string[] = [];
  for (const key of keys) {
    const winner = outcome.wins.get(key)?.[0];
    const candidates =
      winner !== undefined ? [winner] : [...(outcome.ambiguous.get(key) ?? new Set<string>())];
    let stored: string;
    try {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      stored = sha256((await got.Body?.transformToByteArray()) ?? new Uint8Array());
    } catch (error) {
      const { status, name } = failureOf(error);
      wrong.push(`${key}: GET ${status} ${name} (created by ${candidates.join(',') || 'nobody'})`);
      continue;
    }
    if (!candidates.some((id) => outcome.bodies.get(`${id} ${key}`) === stored)) {
      wrong.push(
        `${key}: stored bytes are not the acknowledged writer's (${candidates.join(',')})`,
      );
    }
  }
  return wrong;
}
