/** A plain SQL identifier: what a rule may name (a table, a column); anything else is refused, never escaped. */
export const SQL_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Quotes an identifier from a rule. */
export function ident(name: string): string {
  if (!SQL_IDENTIFIER.test(name)) throw new Error(`not a plain SQL identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}
