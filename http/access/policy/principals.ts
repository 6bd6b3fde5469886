import { HANGAR_ACCOUNT_ID, type Principal } from '../principal.js';
import { ACCOUNT, EVERYONE, type PrincipalSet } from './document.js';
import { isPlainObject, malformed } from './parse-condition.js';

/**
 * Principal / NotPrincipal: `"*"`, or `{"AWS": ..., "CanonicalUser": ..., "Service": ...}` with a
 * string or an array of strings each. hangar's keys are IAM users of one account
 * (HANGAR_ACCOUNT_ID): `arn:aws:iam::000000000000:user/<access key id>` (or Ceph RGW's
 * `arn:aws:iam:::user/<id>`), the account as its id or `...:root` (every key of it). A key
 * hangar does not know is accepted, as AWS keeps a deleted user's principal.
 */
export function parsePrincipal(raw: unknown): PrincipalSet {
  if (raw === '*') return { tokens: [EVERYONE] };
  if (!isPlainObject(raw) || Object.keys(raw).length === 0) throw invalidPrincipal();
  const tokens: string[] = [];
  for (const [kind, value] of Object.entries(raw)) {
    const parse = PRINCIPAL_KINDS[kind];
    if (parse === undefined) throw invalidPrincipal();
    for (const text of stringList(value)) tokens.push(parse(text));
  }
  return { tokens };
}

export function invalidPrincipal() {
  return malformed('Invalid principal in policy');
}

const PRINCIPAL_KINDS: Readonly<Record<string, (text: string) => string>> = {
  AWS: awsPrincipalToken,
  CanonicalUser: (text) => {
    if (!/^[0-9a-fA-F]{64}$/.test(text)) throw invalidPrincipal();
    return `canonical:${text.toLowerCase()}`;
  },
  // AWS services and identity providers have no hangar counterpart: kept, matching nobody.
  Service: (text) => {
    if (!/^[A-Za-z0-9.*-]{1,256}$/.test(text)) throw invalidPrincipal();
    return `foreign:service:${text}`;
  },
  Federated: (text) => {
    if (text.length === 0 || text.length > 1024) throw invalidPrincipal();
    return `foreign:federated:${text}`;
  },
};

function awsPrincipalToken(text: string): string {
  if (text === '*') return EVERYONE;
  if (/^\d{12}$/.test(text)) return text === HANGAR_ACCOUNT_ID ? ACCOUNT : `foreign:${text}`;
  const arn = /^arn:aws:(iam|sts)::(\d{12})?:(.+)$/.exec(text);
  if (arn === null) throw invalidPrincipal();
  const [, service, account = '', resource = ''] = arn;
  const ours = account === '' || account === HANGAR_ACCOUNT_ID;
  if (service === 'iam' && resource === 'root') {
    if (account === '') throw invalidPrincipal();
    return ours ? ACCOUNT : `foreign:${text}`;
  }
  const user = /^user\/(?:[\x21-\x7e]*\/)?([\w+=,.@-]{1,128})$/.exec(resource);
  if (service === 'iam' && user !== null) return ours ? `user:${user[1]}` : `foreign:${text}`;
  if (account === '' || !/^[\x21-\x7e]{1,512}$/.test(resource)) throw invalidPrincipal();
  // Roles, assumed roles, federated users: valid ARNs that no hangar request ever is.
  return `foreign:${text}`;
}

function stringList(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw invalidPrincipal();
  return list.map((item) => {
    if (typeof item !== 'string') throw invalidPrincipal();
    return item;
  });
}

/** Whether a principal set names the requester. */
export function principalIn(set: PrincipalSet, principal: Principal): boolean {
  for (const token of set.tokens) {
    if (token === EVERYONE) return true;
    if (principal.kind === 'anonymous') continue;
    if (token === ACCOUNT) return true;
    if (token === `canonical:${principal.canonicalId}`) return true;
    if (!principal.key.root && token === `user:${principal.key.accessKeyId}`) return true;
  }
  return false;
}
