/**
 * IAM's wildcards: `*` matches any run of characters (`/` included), `?` exactly one. Matched
 * without a RegExp (nothing to compile or cache, no catastrophic backtracking): the classic
 * greedy matcher that backtracks only to the last `*`, O(pattern × text) at worst.
 */
export function wildcardMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const c = pattern.charCodeAt(p);
    if (p < pattern.length && c !== STAR && (c === QUESTION || literal(c) === text.charCodeAt(t))) {
      p++;
      t++;
    } else if (p < pattern.length && c === STAR) {
      starP = p++;
      starT = t;
    } else if (starP !== -1) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === STAR) p++;
  return p === pattern.length;
}

/** Whether a pattern has a wildcard at all (isPublicPolicy wants fixed values). */
export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

const STAR = 42;
const QUESTION = 63;

/**
 * Private-use characters standing for a literal `*` and `?` in a pattern (the policy variables
 * `${*}` and `${?}`, variables.ts): compared as those characters, never as wildcards.
 */
export const LITERAL_STAR = '\uE000';
export const LITERAL_QUESTION = '\uE001';
const LITERAL_STAR_CODE = 0xe000;
const LITERAL_QUESTION_CODE = 0xe001;

function literal(code: number): number {
  if (code === LITERAL_STAR_CODE) return STAR;
  return code === LITERAL_QUESTION_CODE ? QUESTION : code;
}
