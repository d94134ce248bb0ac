import { createRequire } from 'node:module';
import type { TemporalSecurity } from '../temporal/connect.js';
import { InputError } from '../kernel/errors.js';

// Required when first needed: commands that never connect (`maint --help`) do not pay for loading it.
const require = createRequire(import.meta.url);
const envconfig = () => require('@temporalio/envconfig') as typeof import('@temporalio/envconfig');

export interface TemporalProfile extends TemporalSecurity {
  /** Set when the environment or the profile names a server. */
  address?: string;
  namespace?: string;
  /** The profile name, when one was asked for. */
  profile?: string;
}

/** The names an error can point at, so a bad value is reported as the variable a user set. */
function describeSource(env: NodeJS.ProcessEnv): string {
  const file = env.TEMPORAL_CONFIG_FILE ? `TEMPORAL_CONFIG_FILE (${env.TEMPORAL_CONFIG_FILE})` : 'the Temporal config file';
  return env.TEMPORAL_PROFILE ? `TEMPORAL_PROFILE "${env.TEMPORAL_PROFILE}" of ${file}` : `TEMPORAL_* variables or ${file}`;
}

/** A config file without any profile (an empty one) makes the SDK's loader throw a TypeError: it means none. */
function loadProfile(load: typeof import('@temporalio/envconfig').loadClientConfigProfile, vars: Record<string, string>) {
  try {
    return load({ overrideEnvVars: vars });
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return load({ overrideEnvVars: vars, disableFile: true });
  }
}

/** Reads the connection settings as the `temporal` CLI does; an empty variable counts as unset. */
export function loadTemporalProfile(env: NodeJS.ProcessEnv): TemporalProfile {
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') vars[k] = v;
  const { loadClientConfigProfile, toClientOptions } = envconfig();
  let connect: ReturnType<typeof toClientOptions>;
  try {
    connect = toClientOptions(loadProfile(loadClientConfigProfile, vars));
  } catch (err) {
    // Certificate files are read here: a missing one names its path, never its contents.
    throw new InputError(env.TEMPORAL_PROFILE ? 'TEMPORAL_PROFILE' : 'TEMPORAL_CONFIG_FILE', `${describeSource(env)}: ${(err as Error).message}`);
  }
  const { address, apiKey, tls, metadata } = connect.connectionOptions;
  if (vars.TEMPORAL_TLS_CLIENT_CERT_PATH && !vars.TEMPORAL_TLS_CLIENT_KEY_PATH && !vars.TEMPORAL_TLS_CLIENT_KEY_DATA) {
    throw new InputError('TEMPORAL_TLS_CLIENT_KEY_PATH', 'is required with TEMPORAL_TLS_CLIENT_CERT_PATH (the client certificate needs its key)');
  }
  if (vars.TEMPORAL_TLS_CLIENT_KEY_PATH && !vars.TEMPORAL_TLS_CLIENT_CERT_PATH && !vars.TEMPORAL_TLS_CLIENT_CERT_DATA) {
    throw new InputError('TEMPORAL_TLS_CLIENT_CERT_PATH', 'is required with TEMPORAL_TLS_CLIENT_KEY_PATH (the key needs its client certificate)');
  }
  return {
    ...(address ? { address } : {}),
    ...(connect.namespace ? { namespace: connect.namespace } : {}),
    ...(apiKey !== undefined ? { apiKey: apiKey as string } : {}),
    ...(tls !== undefined && tls !== null ? { tls } : {}),
    ...(metadata && Object.keys(metadata).length ? { metadata: metadata as Record<string, string> } : {}),
    ...(vars.TEMPORAL_PROFILE ? { profile: vars.TEMPORAL_PROFILE } : {}),
  };
}
