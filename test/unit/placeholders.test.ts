import { describe, expect, it } from 'vitest';
import { numbered } from '../../src/db/query.js';

describe('the placeholders of our SQL', () => {
  it('numbers each ? of the statement for pg, in order', () => {
    expect(numbered('SELECT * FROM t WHERE a = ? AND b IN (?, ?) LIMIT ?')).toBe('SELECT * FROM t WHERE a = $1 AND b IN ($2, $3) LIMIT $4');
    expect(numbered('INSERT INTO t (p) VALUES (?::jsonb)')).toBe('INSERT INTO t (p) VALUES ($1::jsonb)');
  });

  it('leaves a ? inside literals, quoted identifiers and comments as text', () => {
    expect(numbered(`SELECT 'it''s ?', E'\\'?', "col?", $$a?$$, $x$b?$x$ FROM t WHERE c = ? -- d?\n AND e = ? /* f? /* g? */ ? */`)).toBe(
      `SELECT 'it''s ?', E'\\'?', "col?", $$a?$$, $x$b?$x$ FROM t WHERE c = $1 -- d?\n AND e = $2 /* f? /* g? */ ? */`,
    );
  });

  it('does not take a positional parameter or an identifier with $ for a dollar quote', () => {
    expect(numbered('SELECT a$b, ? FROM t')).toBe('SELECT a$b, $1 FROM t');
  });
});
