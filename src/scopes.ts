import * as z from 'zod/mini';
import { bool, paramsSchema, parseJobInput, parseParams } from './kernel/validate.js';

/** The scopes every deployment has (from the seeds' initialize_jwt_scopes). Pure data: workflows import it. */
export const DEFAULT_SCOPES: ReadonlyArray<{ name: string; description: string }> = [
  { name: 'base', description: 'Basic access to authenticated endpoints' },
  { name: 'image_upload', description: 'Permission to upload images and media files' },
  { name: 'event_management', description: 'Permission to create and manage events' },
  { name: 'admin', description: 'Full administrative access' },
];

export interface ScopesResult {
  dryRun: boolean;
  /** Created by this run (or, in a dry run, that would be). */
  created: string[];
  existing: string[];
}

export const SCOPES_PARAMS = paramsSchema({ dryRun: z.nullish(bool) });

export function parseScopesParams(raw: unknown): { dryRun: boolean } {
  return { dryRun: parseParams(SCOPES_PARAMS, raw).dryRun ?? false };
}

/** The scopes workflow's input, parsed at its first step. */
export const parseScopesInput = (raw: unknown) => parseJobInput<{ dryRun?: boolean }>('ensureScopes', raw, parseScopesParams);
