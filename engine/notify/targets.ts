/**
 * The operator's notification targets (config `notify.targets`, env HANGAR_NOTIFY_TARGETS, flag
 * --notify-targets): where a bucket's notification configurations may send events. Each target is
 * `<name>=<url>`, the URL's scheme deciding the kind:
 *  - `http://` / `https://`: a webhook, POSTed the event JSON. A fragment `#hmac=<secret>` (never
 *    sent: fragments stay on the client) signs each body: `X-Hangar-Signature: sha256=<hex>`.
 *  - `nats://host:port/<subject>`: a NATS publish on that subject (flushed before the event counts
 *    as delivered). `nats://user:pass@host:port/<subject>` connects with that user and password,
 *    `nats://token@host:port/<subject>` with that token (both percent-decoded); they are kept
 *    apart from the URL (`natsAuth`), so that nothing showing a target's URL shows them.
 * Bucket configurations name targets by AWS-looking ARNs in the server's region and the account
 * 000000000000: `arn:aws:sqs:<region>:000000000000:<name>` (QueueConfiguration),
 * `arn:aws:sns:<region>:000000000000:<name>` (TopicConfiguration),
 * `arn:aws:lambda:<region>:000000000000:function:<name>` (CloudFunctionConfiguration).
 */

export type NotifyTargetKind = 'webhook' | 'nats';

export interface NotifyTarget {
  name: string;
  kind: NotifyTargetKind;
  /** Webhooks: the URL POSTed to (no fragment). NATS: the server, nats://host:port. */
  url: string;
  /** Webhooks: the HMAC-SHA256 signing secret; null: unsigned. */
  secret: string | null;
  /** NATS: the subject events are published on. */
  subject: string | null;
  /** NATS: the credentials the URL carried (absent: none). A secret: never listed or logged. */
  natsAuth?: NatsAuth;
}

/** How hangar authenticates to a NATS server: a user and password, or a token. */
export type NatsAuth = { user: string; pass: string } | { token: string };

/** The credentials of a nats:// URL: `user:pass@`, or a lone `token@` (no password). */
function natsAuthOf(url: URL, name: string): NatsAuth | null {
  const user = decodedCredential(url.username, name);
  const pass = decodedCredential(url.password, name);
  if (user === '' && pass === '') return null;
  if (user === '') {
    throw new Error(`target ${name}: a nats:// password needs a user (user:password@host)`);
  }
  return pass === '' ? { token: user } : { user, pass };
}

/** One percent-encoded credential; the message never holds it (it reaches logs and answers). */
function decodedCredential(text: string, name: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new Error(`target ${name}: the nats:// URL's credentials are not well percent-encoded`);
  }
}

/** The account every target ARN names (hangar has no AWS account). */
export const TARGET_ACCOUNT = '000000000000';

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const TARGETS_MAX = 64;

/** Parses one `<name>=<url>` entry; throws an Error whose message says what is wrong. */
export function parseTarget(entry: string): NotifyTarget {
  const at = entry.indexOf('=');
  if (at < 0) throw new Error(`target '${entry}' must be <name>=<url>`);
  const name = entry.slice(0, at).trim();
  const raw = entry.slice(at + 1).trim();
  if (!NAME.test(name)) throw new Error(`target name '${name}' must be 1 to 64 of A-Z a-z 0-9 _ -`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Not the value itself: it may carry credentials.
    throw new Error(`target ${name}: the value is not a URL`);
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    const secret = url.hash.startsWith('#hmac=') ? decodeURIComponent(url.hash.slice(6)) : null;
    if (url.hash !== '' && secret === null) {
      throw new Error(`target ${name}: the only URL fragment allowed is #hmac=<secret>`);
    }
    url.hash = '';
    return { name, kind: 'webhook', url: url.toString(), secret, subject: null };
  }
  if (url.protocol === 'nats:') {
    const subject = decodeURIComponent(url.pathname.slice(1));
    if (!/^[A-Za-z0-9_.-]{1,255}$/.test(subject)) {
      throw new Error(
        `target ${name}: nats://host:port/<subject> needs a subject (A-Z a-z 0-9 _ . -)`,
      );
    }
    const natsAuth = natsAuthOf(url, name);
    return {
      name,
      kind: 'nats',
      url: `nats://${url.host}`,
      secret: null,
      subject,
      ...(natsAuth !== null ? { natsAuth } : {}),
    };
  }
  throw new Error(`target ${name}: the URL must be http(s):// (webhook) or nats:// (NATS)`);
}

/** A list of targets: a TOML array of strings, or one string of entries split by ';' or spaces. */
export function parseTargets(raw: unknown): NotifyTarget[] {
  const entries =
    typeof raw === 'string'
      ? raw.split(/[;\s]+/).filter((entry) => entry !== '')
      : Array.isArray(raw) && raw.every((entry) => typeof entry === 'string')
        ? (raw as string[])
        : null;
  if (entries === null) throw new Error('must be a list of <name>=<url> strings');
  if (entries.length > TARGETS_MAX) throw new Error(`must name at most ${TARGETS_MAX} targets`);
  const targets = entries.map(parseTarget);
  const names = new Set(targets.map((target) => target.name));
  if (names.size !== targets.length) throw new Error('names a target twice');
  return targets;
}

/** Which configuration element names which ARN service. */
export type TargetElement =
  | 'QueueConfiguration'
  | 'TopicConfiguration'
  | 'CloudFunctionConfiguration';

/** Each configuration element's ARN up to the target's name, in one region. */
function arnPrefix(element: TargetElement, region: string): string {
  switch (element) {
    case 'QueueConfiguration':
      return `arn:aws:sqs:${region}:${TARGET_ACCOUNT}:`;
    case 'TopicConfiguration':
      return `arn:aws:sns:${region}:${TARGET_ACCOUNT}:`;
    case 'CloudFunctionConfiguration':
      return `arn:aws:lambda:${region}:${TARGET_ACCOUNT}:function:`;
  }
}

/** The target an ARN names, when it is one of ours in this region; null otherwise. */
export function targetNamed<T extends NotifyTarget>(
  arn: string,
  element: TargetElement,
  region: string,
  targets: readonly T[],
): T | null {
  const prefix = arnPrefix(element, region);
  if (!arn.startsWith(prefix)) return null;
  const name = arn.slice(prefix.length);
  return targets.find((target) => target.name === name) ?? null;
}

/** A target's ARNs (queue, topic, function), for the admin API. */
export function targetArns(target: NotifyTarget, region: string): string[] {
  const elements: TargetElement[] = [
    'QueueConfiguration',
    'TopicConfiguration',
    'CloudFunctionConfiguration',
  ];
  return elements.map((element) => `${arnPrefix(element, region)}${target.name}`);
}
