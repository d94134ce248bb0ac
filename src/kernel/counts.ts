// No imports: workflow code uses it too.

/** Counts by name, summed (a name in either appears in the result). */
export function addCounts(into: Record<string, number>, add: Record<string, number>): Record<string, number> {
  const out = { ...into };
  for (const [k, v] of Object.entries(add)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** A number the database returned (bigint columns arrive as text, absent values as null): 0 when absent. */
export function toNumber(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}
