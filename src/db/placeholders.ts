/**
 * The placeholder grammar of our SQL: a `?` in the statement's text is a bound value; a `?` inside a string literal
 * ('...', E'...', $tag$...$tag$), a quoted identifier or a comment is text. Both ways `Db` runs a statement read it
 * this way (see query.ts), so a statement means the same on the ORM's connection and on a plain pg pool.
 */

/** Offsets of the `?` that are placeholders and of those that are text, in order. */
export function scanPlaceholders(sql: string): { values: number[]; text: number[] } {
  const values: number[] = [];
  const text: number[] = [];
  let i = 0;
  // Everything up to `end` (exclusive) is quoted or commented: its `?` are text.
  const skipTo = (end: number) => {
    for (let j = i; j < end; j++) if (sql[j] === '?') text.push(j);
    i = end;
  };
  while (i < sql.length) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    if (ch === '?') {
      values.push(i++);
    } else if (ch === "'") {
      skipTo(endOfQuoted(sql, i, "'", /[eE]/.test(sql[i - 1] ?? '') && !/\w/.test(sql[i - 2] ?? '')));
    } else if (ch === '"') {
      skipTo(endOfQuoted(sql, i, '"', false));
    } else if (ch === '-' && next === '-') {
      const nl = sql.indexOf('\n', i);
      skipTo(nl < 0 ? sql.length : nl);
    } else if (ch === '/' && next === '*') {
      skipTo(endOfBlockComment(sql, i));
    } else if (ch === '$' && !/\w/.test(sql[i - 1] ?? '')) {
      const tag = /^\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$/.exec(sql.slice(i))?.[0];
      if (!tag) {
        i++;
        continue;
      }
      const close = sql.indexOf(tag, i + tag.length);
      skipTo(close < 0 ? sql.length : close + tag.length);
    } else {
      i++;
    }
  }
  return { values, text };
}

/** The offset just past a literal or identifier opened at `start` ('' or "" inside it is the quote itself). */
function endOfQuoted(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  let j = start + 1;
  while (j < sql.length) {
    if (backslashEscapes && sql[j] === '\\') j += 2;
    else if (sql[j] === quote && sql[j + 1] === quote) j += 2;
    else if (sql[j] === quote) return j + 1;
    else j++;
  }
  return sql.length;
}

/** The offset just past a block comment opened at `start`; PostgreSQL's block comments nest. */
function endOfBlockComment(sql: string, start: number): number {
  let depth = 0;
  let j = start;
  while (j < sql.length) {
    if (sql[j] === '/' && sql[j + 1] === '*') {
      depth++;
      j += 2;
    } else if (sql[j] === '*' && sql[j + 1] === '/') {
      depth--;
      j += 2;
      if (depth === 0) return j;
    } else {
      j++;
    }
  }
  return sql.length;
}

/** Replaces the characters at `offsets` (each a single `?`) with what `by` gives for each, in order. */
export function replaceAt(sql: string, offsets: number[], by: (n: number) => string): string {
  let out = '';
  let from = 0;
  offsets.forEach((at, n) => {
    out += sql.slice(from, at) + by(n);
    from = at + 1;
  });
  return out + sql.slice(from);
}
