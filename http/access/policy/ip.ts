import { isIPv4, isIPv6 } from 'node:net';

/**
 * IPv4 and IPv6 addresses and CIDR ranges for IpAddress / NotIpAddress (aws:SourceIp). An
 * address is its bytes (4 or 16); an IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a
 * dual-stack socket reports for an IPv4 peer) is its IPv4 address, as AWS compares it.
 */
export interface IpRange {
  readonly bytes: readonly number[];
  readonly prefixBits: number;
}

/** The bytes of an address, or undefined when it is not one. */
export function parseIp(text: string): number[] | undefined {
  if (isIPv4(text)) return text.split('.').map(Number);
  if (!isIPv6(text)) return undefined;
  const bytes = ipv6Bytes(text);
  return isIpv4Mapped(bytes) ? bytes.slice(12) : bytes;
}

/** A CIDR range ("10.0.0.0/8", "2001:db8::/32") or one address; undefined when invalid. */
export function parseIpRange(text: string): IpRange | undefined {
  const slash = text.indexOf('/');
  const address = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (address === undefined) return undefined;
  const bits = address.length * 8;
  if (slash === -1) return { bytes: address, prefixBits: bits };
  const prefix = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits) return undefined;
  return { bytes: address, prefixBits: Number(prefix) };
}

/** Whether `address` lies in `range` (an IPv4 address is never in an IPv6 range, nor back). */
export function ipInRange(address: readonly number[], range: IpRange): boolean {
  if (address.length !== range.bytes.length) return false;
  let bits = range.prefixBits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((address[i] ?? 0) & mask) !== ((range.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

const rangeCache = new Map<string, IpRange | undefined>();

/** parseIpRange with a small cache: a policy's ranges are parsed once, not per request. */
export function cachedIpRange(text: string): IpRange | undefined {
  if (rangeCache.has(text)) return rangeCache.get(text);
  const range = parseIpRange(text);
  // Bounded: the distinct ranges of the policies in use; cleared rather than grown past it.
  if (rangeCache.size >= 1024) rangeCache.clear();
  rangeCache.set(text, range);
  return range;
}

function isIpv4Mapped(bytes: readonly number[]): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/** The 16 bytes of a valid IPv6 text (node:net validated it): groups, `::`, an IPv4 tail. */
function ipv6Bytes(text: string): number[] {
  const withoutZone = text.split('%')[0] ?? text;
  let groups: number[] = [];
  const [head = '', tail] = withoutZone.split('::');
  const toGroups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const [a = 0, b = 0, c = 0, d = 0] = piece.split('.').map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else {
        out.push(Number.parseInt(piece, 16));
      }
    }
    return out;
  };
  const left = toGroups(head);
  if (tail === undefined) {
    groups = left;
  } else {
    const right = toGroups(tail);
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  }
  return groups.flatMap((group) => [group >> 8, group & 0xff]);
}
