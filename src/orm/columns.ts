import { EntitySchema, type EntitySchemaMetadata } from '@mikro-orm/core';

/*
 * Column shapes the entities repeat. The migrations are authoritative: these only spell what they create, so
 * the schema check (test/schema.test.ts) compares equal.
 */

type Properties<T> = NonNullable<EntitySchemaMetadata<T>['properties']>;

/** A `timestamptz` column. */
export const ts = (fieldName: string, extra: Record<string, unknown> = {}) => ({ type: 'Date', columnType: 'timestamptz', fieldName, ...extra }) as const;

/** A bigserial primary key. */
export const pk = { type: 'bigint', primary: true, autoincrement: true } as const;

/** A foreign key to `entity`; the application's tables have no ON DELETE/UPDATE actions (Django emulates them). */
export const owner = (entity: string, fieldName: string, nullable: boolean, extra: Record<string, unknown> = {}) =>
  ({ kind: 'm:1', entity: () => entity, fieldName, nullable, deleteRule: 'no action', updateRule: 'no action', ...extra }) as const;

/**
 * A native job table (the application's tokens and accounts, which the jobs clean up): in schema `public`, keyed
 * by a bigserial `id`, given first, as in the migrations.
 */
export function appTable<T extends object>(name: string, tableName: string, properties: Omit<Properties<T>, 'id'>): EntitySchema<T> {
  // TypeScript cannot relate the spread to the generic mapped type; callers' properties are checked at the call.
  return new EntitySchema<T>({ name, tableName, schema: 'public', properties: { id: pk, ...properties } as unknown as Properties<T> });
}
