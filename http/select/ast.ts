/** The AST of AWS's S3 Select SQL subset (see parser.ts for the grammar). */

/** One step of a path: `.name` (quoted: case-sensitive), `[n]`, or `[*]`. */
export type PathStep =
  | { readonly kind: 'name'; readonly name: string; readonly quoted: boolean }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'wildcard' };

export type Expr =
  | { readonly kind: 'literal'; readonly value: SqlValue }
  | { readonly kind: 'path'; readonly steps: readonly PathStep[] }
  | { readonly kind: 'unary'; readonly op: 'NOT' | '-' | '+'; readonly operand: Expr }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr }
  | {
      readonly kind: 'like';
      readonly value: Expr;
      readonly pattern: Expr;
      readonly escape: Expr | null;
      readonly negated: boolean;
    }
  | {
      readonly kind: 'in';
      readonly value: Expr;
      readonly list: readonly Expr[];
      readonly negated: boolean;
    }
  | {
      readonly kind: 'between';
      readonly value: Expr;
      readonly low: Expr;
      readonly high: Expr;
      readonly negated: boolean;
    }
  | {
      readonly kind: 'is';
      readonly value: Expr;
      readonly test: 'NULL' | 'MISSING';
      readonly negated: boolean;
    }
  | {
      readonly kind: 'call';
      readonly name: string;
      readonly args: readonly Expr[];
      readonly star: boolean;
    }
  | { readonly kind: 'cast'; readonly value: Expr; readonly type: SqlType }
  | {
      readonly kind: 'case';
      readonly subject: Expr | null;
      readonly whens: ReadonlyArray<{ readonly when: Expr; readonly result: Expr }>;
      readonly otherwise: Expr | null;
    };

export type BinaryOp =
  | 'OR'
  | 'AND'
  | '='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | '||';

export type SqlType = 'INT' | 'FLOAT' | 'DECIMAL' | 'STRING' | 'BOOL' | 'TIMESTAMP';

/** A value: JSON's values plus timestamps; `undefined` is SQL's MISSING. */
export type SqlValue =
  | null
  | undefined
  | boolean
  | number
  | string
  | Date
  | readonly SqlValue[]
  | { readonly [name: string]: SqlValue };

export interface SelectItem {
  readonly expr: Expr;
  readonly alias: string | null;
}

export interface Query {
  /** null: `SELECT *`. */
  readonly items: readonly SelectItem[] | null;
  /** The steps after `S3Object` in FROM (`S3Object[*].a[*]` → wildcard, name a, wildcard). */
  readonly from: readonly PathStep[];
  readonly alias: string | null;
  readonly where: Expr | null;
  readonly limit: number | null;
}

export const AGGREGATES: ReadonlySet<string> = new Set(['COUNT', 'SUM', 'AVG', 'MIN', 'MAX']);
