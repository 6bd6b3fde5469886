import { SelectSqlError } from './sql-error.js';

export type Token =
  | { readonly kind: 'word'; readonly text: string; readonly at: number }
  | { readonly kind: 'quoted'; readonly text: string; readonly at: number }
  | { readonly kind: 'string'; readonly text: string; readonly at: number }
  | { readonly kind: 'number'; readonly text: string; readonly at: number }
  | { readonly kind: 'timestamp'; readonly text: string; readonly at: number }
  | { readonly kind: 'op'; readonly text: string; readonly at: number }
  | { readonly kind: 'end'; readonly text: ''; readonly at: number };

const OPERATORS = [
  '<=',
  '>=',
  '<>',
  '!=',
  '||',
  '=',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '(',
  ')',
  '[',
  ']',
  ',',
  '.',
];

/**
 * Splits a SQL expression into tokens. Words are identifiers and keywords alike (the parser
 * tells them apart); `"x"` is a quoted identifier, `'x'` a string ('' is a quote), a backtick
 * literal a timestamp. Anything else is LexerInvalidChar / LexerInvalidLiteral.
 */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < sql.length) {
    const c = sql.charAt(at);
    if (/\s/.test(c)) {
      at++;
    } else if (/[A-Za-z_]/.test(c)) {
      const end = scanWhile(sql, at, /[A-Za-z0-9_]/);
      tokens.push({ kind: 'word', text: sql.slice(at, end), at });
      at = end;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql.charAt(at + 1)))) {
      at = scanNumber(sql, at, tokens);
    } else if (c === "'" || c === '"') {
      at = scanQuoted(sql, at, c, tokens);
    } else if (c === '`') {
      const end = sql.indexOf('`', at + 1);
      if (end < 0) throw new SelectSqlError('LexerInvalidLiteral', at);
      tokens.push({ kind: 'timestamp', text: sql.slice(at + 1, end), at });
      at = end + 1;
    } else {
      const op = OPERATORS.find((candidate) => sql.startsWith(candidate, at));
      if (op === undefined) throw new SelectSqlError('LexerInvalidChar', at);
      tokens.push({ kind: 'op', text: op === '<>' ? '!=' : op, at });
      at += op.length;
    }
  }
  tokens.push({ kind: 'end', text: '', at });
  return tokens;
}

function scanWhile(sql: string, from: number, pattern: RegExp): number {
  let end = from;
  while (end < sql.length && pattern.test(sql.charAt(end))) end++;
  return end;
}

function scanNumber(sql: string, at: number, tokens: Token[]): number {
  let end = scanWhile(sql, at, /[0-9]/);
  if (sql.charAt(end) === '.') end = scanWhile(sql, end + 1, /[0-9]/);
  if (/[eE]/.test(sql.charAt(end))) {
    const sign = /[+-]/.test(sql.charAt(end + 1)) ? 1 : 0;
    const digits = scanWhile(sql, end + 1 + sign, /[0-9]/);
    if (digits === end + 1 + sign) throw new SelectSqlError('LexerInvalidLiteral', at);
    end = digits;
  }
  if (/[A-Za-z_]/.test(sql.charAt(end))) throw new SelectSqlError('LexerInvalidLiteral', at);
  tokens.push({ kind: 'number', text: sql.slice(at, end), at });
  return end;
}

/** A '…' string or "…" identifier; the quote doubled inside stands for itself. */
function scanQuoted(sql: string, at: number, quote: string, tokens: Token[]): number {
  let text = '';
  let i = at + 1;
  for (;;) {
    const next = sql.indexOf(quote, i);
    if (next < 0) throw new SelectSqlError('LexerInvalidLiteral', at);
    text += sql.slice(i, next);
    if (sql.charAt(next + 1) === quote) {
      text += quote;
      i = next + 2;
      continue;
    }
    tokens.push({ kind: quote === "'" ? 'string' : 'quoted', text, at });
    return next + 1;
  }
}
