import { LIMITS } from '../../engine/limits.js';
import type { BinaryOp, Expr, PathStep, Query, SelectItem, SqlType } from './ast.js';
import { type Token, tokenize } from './lexer.js';
import { SelectSqlError } from './sql-error.js';

/**
 * A hand-written recursive-descent parser for AWS's S3 Select SQL:
 *
 *   SELECT (* | expr [[AS] alias], ...) FROM S3Object[path] [[AS] alias]
 *     [WHERE expr] [LIMIT n]
 *
 * Expressions, loosest first: OR, AND, NOT, predicates (comparison, [NOT] LIKE … [ESCAPE …],
 * [NOT] IN (…), [NOT] BETWEEN … AND …, IS [NOT] NULL|MISSING), + - ||, * / %, unary - +, then
 * literals, paths, calls, CAST and CASE. Every failure is a SelectSqlError carrying AWS's code;
 * nesting is bounded by LIMITS.selectExpressionDepthMax (the parser recurses).
 */
export function parseQuery(sql: string): Query {
  return new Parser(tokenize(sql)).query();
}

/** Words that end an expression or a list, so they are never read as an alias. */
const RESERVED = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'LIMIT',
  'AND',
  'OR',
  'NOT',
  'LIKE',
  'ESCAPE',
  'IN',
  'BETWEEN',
  'IS',
  'AS',
  'CASE',
  'WHEN',
  'THEN',
  'ELSE',
  'END',
  'NULL',
  'MISSING',
  'TRUE',
  'FALSE',
  'CAST',
  'FOR',
  'GROUP',
  'ORDER',
  'BY',
  'HAVING',
  'JOIN',
  'UNION',
]);

const TYPES: Readonly<Record<string, SqlType>> = {
  INT: 'INT',
  INTEGER: 'INT',
  BIGINT: 'INT',
  SMALLINT: 'INT',
  FLOAT: 'FLOAT',
  REAL: 'FLOAT',
  DOUBLE: 'FLOAT',
  DECIMAL: 'DECIMAL',
  NUMERIC: 'DECIMAL',
  STRING: 'STRING',
  VARCHAR: 'STRING',
  CHAR: 'STRING',
  CHARACTER: 'STRING',
  BOOL: 'BOOL',
  BOOLEAN: 'BOOL',
  TIMESTAMP: 'TIMESTAMP',
};

const COMPARISONS = new Set(['=', '!=', '<', '<=', '>', '>=']);

class Parser {
  private at = 0;
  private depth = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  query(): Query {
    this.keyword('SELECT');
    const items = this.selectList();
    if (!this.isWord('FROM')) throw this.fail('ParseSelectMissingFrom');
    this.next();
    const from = this.fromPath();
    const alias = this.alias();
    let where: Expr | null = null;
    let limit: number | null = null;
    if (this.acceptWord('WHERE')) where = this.expr();
    if (this.acceptWord('LIMIT')) limit = this.limit();
    if (this.peek().kind !== 'end') throw this.fail('ParseUnexpectedToken');
    return { items: wholeRecordItems(items, alias), from, alias, where, limit };
  }

  private selectList(): SelectItem[] | null {
    if (this.acceptOp('*')) return null;
    const items: SelectItem[] = [];
    do {
      const expr = this.expr();
      items.push({ expr, alias: this.alias() });
    } while (this.acceptOp(','));
    return items;
  }

  /** `S3Object` then its path; AWS names the object nothing else. */
  private fromPath(): PathStep[] {
    const source = this.next();
    if (source.kind !== 'word' || source.text.toUpperCase() !== 'S3OBJECT') {
      throw this.fail('ParseUnexpectedToken', source);
    }
    return this.pathSteps();
  }

  private alias(): string | null {
    if (this.acceptWord('AS')) return this.identifier();
    const token = this.peek();
    if (
      token.kind === 'quoted' ||
      (token.kind === 'word' && !RESERVED.has(token.text.toUpperCase()))
    ) {
      return this.identifier();
    }
    return null;
  }

  private identifier(): string {
    const token = this.next();
    if (token.kind === 'quoted') return token.text;
    if (token.kind === 'word' && !RESERVED.has(token.text.toUpperCase())) return token.text;
    throw this.fail('ParseUnexpectedToken', token);
  }

  private limit(): number {
    const token = this.next();
    if (token.kind !== 'number' || !/^\d{1,15}$/.test(token.text)) {
      throw this.fail('ParseUnexpectedToken', token);
    }
    return Number(token.text);
  }

  expr(): Expr {
    return this.nested(() => this.or());
  }

  private or(): Expr {
    return this.leftChain(
      () => this.and(),
      () => (this.acceptWord('OR') ? 'OR' : null),
    );
  }

  private and(): Expr {
    return this.leftChain(
      () => this.not(),
      () => (this.acceptWord('AND') ? 'AND' : null),
    );
  }

  /**
   * `operand (op operand)*`, left-associative. Each operator adds a level to the tree the
   * evaluator recurses through, so it counts toward the depth bound like a parenthesis.
   */
  private leftChain(operand: () => Expr, operator: () => BinaryOp | null): Expr {
    let left = operand();
    const outer = this.depth;
    try {
      for (let op = operator(); op !== null; op = operator()) {
        this.deepen();
        left = { kind: 'binary', op, left, right: operand() };
      }
      return left;
    } finally {
      this.depth = outer;
    }
  }

  private deepen(): void {
    this.depth++;
    if (this.depth > LIMITS.selectExpressionDepthMax) {
      throw this.fail('ParseUnsupportedSyntax', this.peek(), 'the expression is nested too deeply');
    }
  }

  private not(): Expr {
    if (this.acceptWord('NOT'))
      return { kind: 'unary', op: 'NOT', operand: this.nested(() => this.not()) };
    return this.predicate();
  }

  private predicate(): Expr {
    const value = this.additive();
    const token = this.peek();
    if (token.kind === 'op' && COMPARISONS.has(token.text)) {
      this.next();
      return { kind: 'binary', op: token.text as '=', left: value, right: this.additive() };
    }
    if (this.acceptWord('IS')) {
      const negated = this.acceptWord('NOT');
      const test = this.next();
      const word = test.kind === 'word' ? test.text.toUpperCase() : '';
      if (word !== 'NULL' && word !== 'MISSING') throw this.fail('ParseExpectedKeyword', test);
      return { kind: 'is', value, test: word, negated };
    }
    const negated = this.isWord('NOT') && this.isWordAt(1, ['LIKE', 'IN', 'BETWEEN']);
    if (negated) this.next();
    if (this.acceptWord('LIKE')) {
      const pattern = this.additive();
      const escapeExpr = this.acceptWord('ESCAPE') ? this.additive() : null;
      return { kind: 'like', value, pattern, escape: escapeExpr, negated };
    }
    if (this.acceptWord('IN'))
      return { kind: 'in', value, list: this.parenthesizedList(), negated };
    if (this.acceptWord('BETWEEN')) {
      const low = this.additive();
      this.keyword('AND');
      return { kind: 'between', value, low, high: this.additive(), negated };
    }
    return value;
  }

  private parenthesizedList(): Expr[] {
    this.op('(');
    const list = [this.expr()];
    while (this.acceptOp(',')) list.push(this.expr());
    this.op(')');
    return list;
  }

  private additive(): Expr {
    return this.leftChain(
      () => this.multiplicative(),
      () => this.acceptOpOf(['+', '-', '||']),
    );
  }

  private multiplicative(): Expr {
    return this.leftChain(
      () => this.unary(),
      () => this.acceptOpOf(['*', '/', '%']),
    );
  }

  private acceptOpOf(ops: readonly BinaryOp[]): BinaryOp | null {
    const token = this.peek();
    if (token.kind !== 'op' || !(ops as readonly string[]).includes(token.text)) return null;
    this.next();
    return token.text as BinaryOp;
  }

  private unary(): Expr {
    const token = this.peek();
    if (token.kind === 'op' && (token.text === '-' || token.text === '+')) {
      this.next();
      return { kind: 'unary', op: token.text, operand: this.nested(() => this.unary()) };
    }
    return this.primary();
  }

  private primary(): Expr {
    const token = this.peek();
    switch (token.kind) {
      case 'number':
        this.next();
        return { kind: 'literal', value: Number(token.text) };
      case 'string':
        this.next();
        return { kind: 'literal', value: token.text };
      case 'timestamp':
        this.next();
        return {
          kind: 'call',
          name: 'TO_TIMESTAMP',
          args: [{ kind: 'literal', value: token.text }],
          star: false,
        };
      case 'quoted':
        return this.path();
      case 'op':
        if (token.text !== '(') throw this.fail('ParseExpectedExpression', token);
        this.next();
        return this.parenthesized();
      case 'word':
        return this.wordExpr(token.text.toUpperCase());
      default:
        throw this.fail('ParseExpectedExpression', token);
    }
  }

  private parenthesized(): Expr {
    const inner = this.expr();
    this.op(')');
    return inner;
  }

  private wordExpr(word: string): Expr {
    const literal = WORD_LITERALS.get(word);
    if (literal !== undefined) {
      this.next();
      return { kind: 'literal', value: literal.value };
    }
    if (word === 'CAST') return this.cast();
    if (word === 'CASE') return this.caseExpr();
    if (RESERVED.has(word)) throw this.fail('ParseExpectedExpression');
    const after = this.tokens[this.at + 1];
    if (after?.kind === 'op' && after.text === '(') return this.call(word);
    return this.path();
  }

  private cast(): Expr {
    this.next();
    this.op('(');
    const value = this.expr();
    this.keyword('AS');
    const name = this.next();
    const type = name.kind === 'word' ? TYPES[name.text.toUpperCase()] : undefined;
    if (type === undefined) throw this.fail('ParseExpectedTypeName', name);
    this.op(')');
    return { kind: 'cast', value, type };
  }

  private caseExpr(): Expr {
    this.next();
    const subject = this.isWord('WHEN') ? null : this.expr();
    const whens: Array<{ when: Expr; result: Expr }> = [];
    while (this.acceptWord('WHEN')) {
      const when = this.expr();
      this.keyword('THEN');
      whens.push({ when, result: this.expr() });
    }
    if (whens.length === 0) throw this.fail('ParseExpectedKeyword');
    const otherwise = this.acceptWord('ELSE') ? this.expr() : null;
    this.keyword('END');
    return { kind: 'case', subject, whens, otherwise };
  }

  /** A function call; a few take SQL's keyword forms (EXTRACT(x FROM y), TRIM(LEADING …)). */
  private call(name: string): Expr {
    this.next();
    this.op('(');
    const args = this.callArgs(name);
    this.op(')');
    return { kind: 'call', name, args: args.args, star: args.star };
  }

  private callArgs(name: string): { args: Expr[]; star: boolean } {
    if (name === 'COUNT' && this.acceptOp('*')) return { args: [], star: true };
    if (this.isOp(')')) return { args: [], star: false };
    if (name === 'EXTRACT') return { args: this.extractArgs(), star: false };
    if (name === 'TRIM') return { args: this.trimArgs(), star: false };
    if (name === 'DATE_ADD' || name === 'DATE_DIFF') {
      const part = this.datePart();
      this.op(',');
      return { args: [part, ...this.commaList()], star: false };
    }
    const first = this.expr();
    if (name === 'SUBSTRING' && this.acceptWord('FROM')) {
      const args = [first, this.expr()];
      if (this.acceptWord('FOR')) args.push(this.expr());
      return { args, star: false };
    }
    const rest = this.acceptOp(',') ? this.commaList() : [];
    return { args: [first, ...rest], star: false };
  }

  private commaList(): Expr[] {
    const list = [this.expr()];
    while (this.acceptOp(',')) list.push(this.expr());
    return list;
  }

  private extractArgs(): Expr[] {
    const part = this.datePart();
    this.keyword('FROM');
    return [part, this.expr()];
  }

  /** TRIM([[LEADING|TRAILING|BOTH] [chars] FROM] value) as (value, side, chars). */
  private trimArgs(): Expr[] {
    let side = 'BOTH';
    const word = this.peek().kind === 'word' ? this.peek().text.toUpperCase() : '';
    if (word === 'LEADING' || word === 'TRAILING' || word === 'BOTH') {
      this.next();
      side = word;
    }
    let chars: Expr = { kind: 'literal', value: ' ' };
    if (this.acceptWord('FROM')) return [this.expr(), { kind: 'literal', value: side }, chars];
    const first = this.expr();
    if (!this.acceptWord('FROM')) return [first, { kind: 'literal', value: side }, chars];
    chars = first;
    return [this.expr(), { kind: 'literal', value: side }, chars];
  }

  private datePart(): Expr {
    const token = this.next();
    if (token.kind !== 'word') throw this.fail('ParseExpectedKeyword', token);
    return { kind: 'literal', value: token.text.toUpperCase() };
  }

  /** An identifier (plain or "quoted") and the steps after it: `.x`, `[n]`, `[*]`, `['x']`. */
  private path(): Expr {
    const head = this.next();
    if (head.kind !== 'word' && head.kind !== 'quoted')
      throw this.fail('ParseExpectedExpression', head);
    const steps: PathStep[] = [{ kind: 'name', name: head.text, quoted: head.kind === 'quoted' }];
    steps.push(...this.pathSteps());
    return { kind: 'path', steps };
  }

  private pathSteps(): PathStep[] {
    const steps: PathStep[] = [];
    for (;;) {
      if (this.acceptOp('.')) {
        const token = this.next();
        if (token.kind === 'word' || token.kind === 'quoted') {
          steps.push({ kind: 'name', name: token.text, quoted: token.kind === 'quoted' });
        } else if (token.kind === 'op' && token.text === '*') {
          steps.push({ kind: 'wildcard' });
        } else {
          throw this.fail('ParseUnexpectedToken', token);
        }
      } else if (this.acceptOp('[')) {
        steps.push(this.bracketStep());
        this.op(']');
      } else {
        return steps;
      }
    }
  }

  private bracketStep(): PathStep {
    const token = this.next();
    if (token.kind === 'op' && token.text === '*') return { kind: 'wildcard' };
    if (token.kind === 'number' && /^\d{1,9}$/.test(token.text))
      return { kind: 'index', index: Number(token.text) };
    if (token.kind === 'string') return { kind: 'name', name: token.text, quoted: true };
    throw this.fail('ParseUnexpectedToken', token);
  }

  /** Runs a recursive step under the depth bound (unary chains recurse without expr()). */
  private nested(step: () => Expr): Expr {
    const outer = this.depth;
    this.deepen();
    try {
      return step();
    } finally {
      this.depth = outer;
    }
  }

  private peek(): Token {
    return this.tokens[this.at] ?? (this.tokens[this.tokens.length - 1] as Token);
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.at++;
    return token;
  }

  private isWord(word: string): boolean {
    const token = this.peek();
    return token.kind === 'word' && token.text.toUpperCase() === word;
  }

  private isWordAt(offset: number, words: readonly string[]): boolean {
    const token = this.tokens[this.at + offset];
    return token?.kind === 'word' && words.includes(token.text.toUpperCase());
  }

  private isOp(op: string): boolean {
    const token = this.peek();
    return token.kind === 'op' && token.text === op;
  }

  private acceptWord(word: string): boolean {
    if (!this.isWord(word)) return false;
    this.next();
    return true;
  }

  private acceptOp(op: string): boolean {
    if (!this.isOp(op)) return false;
    this.next();
    return true;
  }

  private keyword(word: string): void {
    if (!this.acceptWord(word))
      throw this.fail('ParseExpectedKeyword', this.peek(), `expected ${word}`);
  }

  private op(op: string): void {
    if (!this.acceptOp(op)) throw this.fail('ParseUnexpectedToken', this.peek(), `expected ${op}`);
  }

  private fail(
    code: SelectSqlError['code'],
    token: Token = this.peek(),
    detail?: string,
  ): SelectSqlError {
    return new SelectSqlError(code, token.at, detail);
  }
}

const WORD_LITERALS = new Map<string, { value: null | undefined | boolean }>([
  ['NULL', { value: null }],
  ['MISSING', { value: undefined }],
  ['TRUE', { value: true }],
  ['FALSE', { value: false }],
]);

/**
 * `SELECT s.*` (s the FROM alias) is `SELECT *`: the whole record. Beside other items (which
 * PartiQL would merge into one record) hangar refuses it as unsupported syntax.
 */
function wholeRecordItems(items: SelectItem[] | null, alias: string | null): SelectItem[] | null {
  if (items === null || alias === null) return items;
  const isAliasStar = (item: SelectItem): boolean =>
    item.expr.kind === 'path' &&
    item.expr.steps.length === 2 &&
    item.expr.steps[0]?.kind === 'name' &&
    (item.expr.steps[0].quoted
      ? item.expr.steps[0].name === alias
      : item.expr.steps[0].name.toLowerCase() === alias.toLowerCase()) &&
    item.expr.steps[1]?.kind === 'wildcard';
  if (!items.some(isAliasStar)) return items;
  if (items.length > 1 || items[0]?.alias !== null)
    throw new SelectSqlError('ParseUnsupportedSyntax', null, 's.* must be the only SELECT item');
  return null;
}
