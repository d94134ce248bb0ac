import type { KeysRuntime } from '../../activities/keys.js';
import { loadOrCreateLocalKek } from '../local/kek.js';
import { loadKeyPolicy, parseKek } from './policy.js';

/**
 * The key settings a worker runs with: MAINT_KEK when set; otherwise, for the local environment only, a KEK
 * generated into the data dir. An external worker without MAINT_KEK runs, and its rotations fail saying why.
 */
export async function loadKeysRuntime(env: NodeJS.ProcessEnv, opts: { dataDir: string; external: boolean }): Promise<KeysRuntime & { kekSource: string }> {
  const policy = loadKeyPolicy(env);
  if (env.MAINT_KEK) return { kek: parseKek(env.MAINT_KEK), policy, kekSource: 'MAINT_KEK' };
  if (opts.external) return { policy, kekSource: 'none (MAINT_KEK is not set)' };
  return { kek: await loadOrCreateLocalKek(opts.dataDir), policy, kekSource: 'data dir' };
}
