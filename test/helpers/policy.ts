/** Shared pieces of the policy-language unit tests: principals, request facts, one-line checks. */
import type { RequestFacts } from '../../http/access/facts.js';
import { evaluatePolicy, type PolicyVerdict } from '../../http/access/policy/evaluate.js';
import { type PolicyDocument, parsePolicy } from '../../http/access/policy/parse.js';
import { ANONYMOUS, type Principal, principalOf } from '../../http/access/principal.js';

export const BUCKET = 'pol-bucket';

export function keyPrincipal(accessKeyId: string, root = false): Principal {
  return principalOf({
    accessKeyId,
    secretAccessKey: 'secret',
    name: accessKeyId,
    createdMs: 0,
    allowCreateBucket: false,
    root,
  });
}

export const ALICE = keyPrincipal('HKALICE');
export const BOB = keyPrincipal('HKBOB');
export const ROOT = keyPrincipal('HKROOT', true);
export { ANONYMOUS };

export interface FactsOptions {
  ip?: string;
  secure?: boolean;
  nowMs?: number;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  versionId?: string;
  tags?: Record<string, string>;
  signatureVersion?: RequestFacts['signatureVersion'];
}

export function factsOf(options: FactsOptions = {}): RequestFacts {
  const tags = options.tags;
  return {
    sourceIp: () => options.ip ?? '127.0.0.1',
    secureTransport: options.secure ?? false,
    nowMs: options.nowMs ?? Date.parse('2026-01-02T03:04:05Z'),
    signatureVersion: options.signatureVersion ?? 'AWS4-HMAC-SHA256',
    authType: 'REST-HEADER',
    headers: options.headers ?? {},
    query: new Map(Object.entries(options.query ?? {})),
    ...(options.versionId === undefined ? {} : { versionId: options.versionId }),
    ...(tags === undefined ? {} : { existingObjectTags: () => new Map(Object.entries(tags)) }),
  };
}

/** A policy document's text around `statements`. */
export function policyText(statements: unknown, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ Version: '2012-10-17', ...extra, Statement: statements });
}

/** A parsed one-statement policy. */
export function parsed(statements: unknown): PolicyDocument {
  return parsePolicy(policyText(statements), [BUCKET]);
}

export interface Ask {
  principal?: Principal;
  action?: string;
  /** The object key; null for the bucket itself. */
  key?: string | null;
  facts?: FactsOptions;
}

/** What `document` says of one request (defaults: Alice GETs `file.txt`). */
export function ask(document: PolicyDocument, request: Ask = {}): PolicyVerdict {
  const key = request.key === undefined ? 'file.txt' : request.key;
  return evaluatePolicy(document, {
    principal: request.principal ?? ALICE,
    action: request.action ?? 's3:GetObject',
    resource: key === null ? `arn:aws:s3:::${BUCKET}` : `arn:aws:s3:::${BUCKET}/${key}`,
    facts: factsOf(request.facts),
  });
}

/** An Allow statement for everyone on every object, with `condition`. */
export function allowWhen(condition: Record<string, unknown>): PolicyDocument {
  return parsed({
    Effect: 'Allow',
    Principal: '*',
    Action: 's3:*',
    Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
    Condition: condition,
  });
}
