/** What a CLI command prints: `json` with --json, `human` otherwise. */
export interface Output {
  readonly json: unknown;
  readonly human: string;
}
