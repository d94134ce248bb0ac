import { Client, Connection, type ConnectionOptions, type TLSConfig } from '@temporalio/client';

/**
 * What a connection to Temporal needs besides its address: the same settings the `temporal` CLI reads, from
 * Temporal's environment configuration (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`,
 * `TEMPORAL_TLS*`, `TEMPORAL_GRPC_META_*`, and the profile `TEMPORAL_PROFILE` of the config file
 * `TEMPORAL_CONFIG_FILE`, by default `~/.config/temporalio/temporal.toml`).
 */
export interface TemporalSecurity {
  apiKey?: string;
  /** true: TLS with the system's roots; an object: client certificate, key, CA, server name. */
  tls?: TLSConfig | boolean;
  metadata?: Record<string, string>;
}

export interface ClientOptions {
  address: string;
  namespace: string;
  /** API key, TLS, metadata from Temporal's environment configuration. */
  security?: TemporalSecurity;
  connectTimeoutMs?: number;
}

/** Connection options for an address and its security settings, unset ones left out: the client's and the worker's. */
export function connectionOptions(address: string, security: TemporalSecurity = {}): Pick<ConnectionOptions, 'address' | 'tls' | 'metadata'> & { apiKey?: string } {
  return {
    address,
    ...(security.tls !== undefined ? { tls: security.tls } : {}),
    ...(security.apiKey ? { apiKey: security.apiKey } : {}),
    ...(security.metadata ? { metadata: security.metadata } : {}),
  };
}

export async function connectClient(opts: ClientOptions): Promise<Client> {
  const connection = Connection.lazy({ ...connectionOptions(opts.address, opts.security), connectTimeout: opts.connectTimeoutMs ?? 5_000 });
  try {
    await connection.ensureConnected();
  } catch (err) {
    // Connection.connect would leave the failed channel open (see temporalAnswers).
    await connection.close().catch(() => undefined);
    throw err;
  }
  return new Client({ connection, namespace: opts.namespace });
}

/**
 * True when a Temporal frontend answers at `address`. Each probe leaves nothing behind: `Connection.connect`
 * that fails never closes its gRPC channel, and grpc-js shares connection attempts between channels through a
 * process-wide pool, so a leaked channel keeps retrying with a backoff that grows to two minutes and makes every
 * later probe of that address wait for it (the first `npm start` failed that way after a long CLI build). The
 * probe gets a channel with a pool of its own and always closes it.
 */
export async function temporalAnswers(address: string, timeoutMs = 2_000, security?: TemporalSecurity): Promise<boolean> {
  const connection = Connection.lazy({ ...connectionOptions(address, security), connectTimeout: timeoutMs, channelArgs: { 'grpc.use_local_subchannel_pool': 1 } });
  try {
    await connection.ensureConnected();
    // ensureConnected accepts any gRPC server (it ignores UNIMPLEMENTED); a Temporal frontend answers this.
    await connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** For logs and the start banner: how we connect, without the secrets themselves. */
export function describeSecurity(s: TemporalSecurity): string {
  const parts: string[] = [];
  if (s.tls === true) parts.push('tls');
  else if (s.tls && typeof s.tls === 'object') parts.push(s.tls.clientCertPair ? 'mTLS' : 'tls');
  if (s.apiKey) parts.push('api key');
  return parts.length ? parts.join(' + ') : 'plaintext';
}
