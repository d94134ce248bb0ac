import { parseJwksUri } from './providers.js';
import { InvalidJwksError, validateJwks } from './jwks.js';

export type FetchFailureKind = 'timeout' | 'network' | 'http' | 'invalid';

/** Why a fetch failed, and whether trying again may help (it does not for a 404 or a 403). */
export class JwksFetchError extends Error {
  constructor(
    readonly kind: FetchFailureKind,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'JwksFetchError';
  }
}

export type FetchOutcome =
  | { status: 'not-modified' }
  | { status: 'ok'; jwks: { keys: Array<Record<string, unknown>> }; etag: string | null };

const MAX_BYTES = 1 << 20;
const MAX_REDIRECTS = 5;

/**
 * Where a redirect may lead: the rule of the configured URI (https, plain http only to this machine) applied to
 * every hop, and never from https down to http.
 */
export function checkRedirect(from: URL, location: string | null): URL {
  if (!location) throw new JwksFetchError('http', `redirect from ${from} without a Location`, false);
  let to: URL;
  try {
    to = new URL(location, from);
  } catch {
    throw new JwksFetchError('http', `redirect from ${from} to an invalid URL`, false);
  }
  try {
    parseJwksUri(to.toString(), 'redirect');
  } catch {
    throw new JwksFetchError('http', `redirect from ${from} to ${to.protocol}//${to.host} refused: only https:// (http:// only for localhost)`, false);
  }
  if (from.protocol === 'https:' && to.protocol !== 'https:') throw new JwksFetchError('http', `redirect from ${from} to plain http refused`, false);
  return to;
}

async function readCapped(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BYTES) {
      await reader.cancel();
      throw new JwksFetchError('invalid', `response is larger than ${MAX_BYTES} bytes`, true);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * One conditional GET of a JWKS, bounded by `timeoutMs` for headers and body together. Retries and backoff are
 * the caller's (a Temporal retry policy), so each attempt is visible and durable.
 */
export async function fetchJwks(uri: string, opts: { etag?: string | null; timeoutMs: number }): Promise<FetchOutcome> {
  const headers: Record<string, string> = { accept: 'application/jwk-set+json, application/json' };
  if (opts.etag) headers['if-none-match'] = opts.etag;
  try {
    const signal = AbortSignal.timeout(opts.timeoutMs);
    // Redirects are followed here, not by fetch, so that each target is checked before it is contacted.
    let url = new URL(uri);
    let res = await fetch(url, { headers, signal, redirect: 'manual' });
    for (let hops = 0; res.status >= 300 && res.status < 400 && res.status !== 304; hops++) {
      await res.body?.cancel();
      if (hops >= MAX_REDIRECTS) throw new JwksFetchError('http', `more than ${MAX_REDIRECTS} redirects from ${uri}`, false);
      url = checkRedirect(url, res.headers.get('location'));
      res = await fetch(url, { headers, signal, redirect: 'manual' });
    }
    if (res.status === 304) {
      await res.body?.cancel();
      return { status: 'not-modified' };
    }
    if (!res.ok) {
      await res.body?.cancel();
      // Server trouble and rate limits pass; other client errors (404, 403, ...) are a configuration problem.
      const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
      throw new JwksFetchError('http', `HTTP ${res.status} from ${uri}`, retryable);
    }
    const text = await readCapped(res);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new InvalidJwksError('the body is not JSON');
    }
    return { status: 'ok', jwks: validateJwks(doc), etag: res.headers.get('etag') };
  } catch (err) {
    if (err instanceof JwksFetchError) throw err;
    // A provider in the middle of a deploy may serve garbage for a moment: worth another try.
    if (err instanceof InvalidJwksError) throw new JwksFetchError('invalid', `${uri}: ${err.message}`, true);
    const name = (err as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') throw new JwksFetchError('timeout', `no complete answer from ${uri} within ${opts.timeoutMs} ms`, true);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new JwksFetchError('network', `cannot reach ${uri}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, true);
  }
}
