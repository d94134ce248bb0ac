import type { JobDefinition } from '../types.js';
import { HIDP_PURGES } from './hidp.js';
import { NATIVE_PURGES } from './native.js';
import { OAUTH_TOOLKIT_PURGES } from './oauth-toolkit.js';
import { SESSION_PURGES } from './sessions.js';
import { SIMPLEJWT_PURGES } from './simplejwt.js';

/**
 * Every built-in purge, by family: one file each (native.ts: this tool's own tables; simplejwt.ts,
 * oauth-toolkit.ts and sessions.ts: the tables those Django apps create; hidp.ts: HIdP's accounts). A new family is a
 * file here and one spread below; its schedules are the catalogue's (src/catalogue/purges.ts).
 */
export const BUILT_IN_PURGES: readonly JobDefinition[] = [...NATIVE_PURGES, ...SIMPLEJWT_PURGES, ...OAUTH_TOOLKIT_PURGES, ...SESSION_PURGES, ...HIDP_PURGES];
