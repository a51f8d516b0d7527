/**
 * One schema change. Migrations are append-only: a released migration is never edited, a new
 * one is added with the next version. Statements run one by one, in one transaction.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}
