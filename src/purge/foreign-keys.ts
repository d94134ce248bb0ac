import * as z from 'zod/mini';
import { InputError, InputErrors } from '../kernel/errors.js';
import { SQL_IDENTIFIER } from './identifiers.js';
import { deletionOrder } from './cascade.js';
import type { Cascade, CascadeEdge, ForeignKeyCatalog, ForeignKeyDeclaration } from './types.js';

/**
 * What deleting a row does to the rows that reference it, when the database does not say (Django's foreign keys
 * have no ON DELETE: the collector decides in Python). A preset lists the foreign keys it knows, read from each
 * app's source; the config file's `foreignKeys:` section declares the others; anything else stops the run before
 * it touches a row.
 */

/** A foreign key a preset knows: `table.column` referencing `references` (a table name, or a function of the root). */
export interface KnownForeignKey {
  table: string | ((root: string) => string);
  column: string;
  references: string | ((root: string) => string);
  action: CascadeEdge['action'];
}

const ACTIONS = ['cascade', 'set-null', 'protect'] as const;
const KEY = /^([A-Za-z_][A-Za-z0-9_]{0,62})\.([A-Za-z_][A-Za-z0-9_]{0,62})$/;

/**
 * The config file's `foreignKeys:` section: `table.column: cascade | set-null | protect`, what deleting the row
 * the column references does to its row (as Django's on_delete CASCADE, SET_NULL, PROTECT).
 */
export const FOREIGN_KEYS_SECTION = z.record(
  z.string().check(z.regex(KEY, { error: 'must be table.column (plain SQL identifiers)' })),
  z.enum(ACTIONS, { error: `{value} is not allowed; allowed: ${ACTIONS.join(', ')}` }),
  'must be a mapping of table.column (plain SQL identifiers) to cascade, set-null or protect',
);

/** The declarations of a config file's contents (its shape already checked by the settings' schema). */
export function declaredForeignKeys(file: unknown): ForeignKeyDeclaration[] {
  const section = (file as { foreignKeys?: Record<string, ForeignKeyDeclaration['onDelete']> } | undefined)?.foreignKeys ?? {};
  return Object.entries(section).map(([key, onDelete]) => {
    const [, table, column] = KEY.exec(key)!;
    return { table: table!, column: column!, onDelete };
  });
}

function declarationHint(table: string, column: string): string {
  return `declare what deleting the referenced row does to it in the config file: foreignKeys: { ${table}.${column}: cascade | set-null | protect }`;
}

/**
 * Every foreign key that references `root` or a table the deletion reaches, read from the catalog and resolved:
 * known ones as the preset says, declared ones as the config file says (a declaration wins over what the preset
 * knows), `protect` ones returned for the rule to keep the rows they reference (only on the root). A key that is
 * neither known nor declared, spans several columns, references something other than the table's key, or is
 * declared set-null on a NOT NULL column is an InputError naming table and column; all are told at once.
 */
export function closureOf(
  root: string,
  catalog: ForeignKeyCatalog,
  known: readonly KnownForeignKey[],
  declared: readonly ForeignKeyDeclaration[],
  field: string,
): { cascade: Cascade; protect: Array<{ table: string; column: string }> } {
  const name = (v: string | ((root: string) => string)) => (typeof v === 'string' ? v : v(root));
  const problems: InputError[] = [];
  const edges: CascadeEdge[] = [];
  const protect: Array<{ table: string; column: string }> = [];
  const keys: Record<string, string> = {};
  const reached = [root];
  for (let i = 0; i < reached.length; i++) {
    const parent = reached[i]!;
    for (const fk of catalog.foreignKeys.filter((f) => f.references === parent)) {
      const column = fk.columns[0]!;
      const where = `${fk.table}.${fk.columns.join(', ')} (constraint ${fk.name}, references ${parent})`;
      if (fk.columns.length !== 1 || !SQL_IDENTIFIER.test(fk.table) || !SQL_IDENTIFIER.test(column)) {
        problems.push(new InputError(field, `foreign key ${where} is not a single-column key of a table on the search path; the preset cannot follow it`));
        continue;
      }
      if (fk.referencedColumns[0] !== catalog.primaryKeys[parent]) {
        problems.push(new InputError(field, `foreign key ${where} references ${parent}.${fk.referencedColumns.join(', ')}, not its primary key; the preset cannot follow it`));
        continue;
      }
      const decl = declared.find((d) => d.table === fk.table && d.column === column);
      const knownAction = known.find((k) => name(k.table) === fk.table && k.column === column && name(k.references) === parent)?.action;
      const action = decl ? ({ cascade: 'delete', 'set-null': 'set-null', protect: 'protect' } as const)[decl.onDelete] : knownAction;
      if (!action) {
        problems.push(new InputError(field, `foreign key ${where} is not one the preset knows; nothing was deleted. To run, ${declarationHint(fk.table, column)}`));
        continue;
      }
      if (action === 'protect') {
        if (parent === root) protect.push({ table: fk.table, column });
        else problems.push(new InputError(field, `foreign key ${where} is declared protect; protect is supported on foreign keys to ${root} only: declare cascade or set-null`));
        continue;
      }
      if (action === 'set-null' && !fk.nullable) {
        problems.push(new InputError(field, `foreign key ${where} is declared set-null but ${fk.table}.${column} is NOT NULL: declare cascade or protect`));
        continue;
      }
      edges.push({ table: fk.table, column, parent, action });
      if (action === 'delete' && !reached.includes(fk.table)) {
        const key = catalog.primaryKeys[fk.table];
        if (!key) problems.push(new InputError(field, `${fk.table} has no single-column primary key; the preset cannot delete from it`));
        else keys[fk.table] = key;
        reached.push(fk.table);
      }
    }
  }
  if (edges.some((e) => e.action === 'delete' && e.table === root)) problems.push(new InputError(field, `a foreign key of ${root} to itself is declared cascade; only set-null or protect can be followed there`));
  if (!problems.length) {
    try {
      deletionOrder(root, { keys, edges });
    } catch (err) {
      problems.push(new InputError(field, `${(err as Error).message}: declare one of them set-null or protect`));
    }
  }
  if (problems.length) throw problems.length === 1 ? problems[0]! : new InputErrors(problems);
  return { cascade: { keys, edges }, protect };
}
