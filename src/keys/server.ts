import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Db } from '../db/query.js';
import type { Logger } from '../logger.js';
import { jwksEtag, loadJwks } from './store.js';

export const JWKS_PATHS = ['/.well-known/jwks.json', '/jwks.json'];

export interface JwksServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * Serves the JWKS read-only: GET/HEAD on the well-known path, with Cache-Control max-age = the cache lifetime
 * the rotation waits for (so a verifier that honours it never misses a new key) and an ETag for conditional
 * requests. The document is read from the database on each request: the table is tiny and the answer is fresh.
 */
export async function startJwksServer(opts: { db: Db; port: number; host?: string; cacheSeconds: number; logger: Logger }): Promise<JwksServer> {
  const log = opts.logger.child({ component: 'jwks-server' });
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (!JWKS_PATHS.includes(path)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found; the JWKS is at ${JWKS_PATHS[0]}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('read-only: GET or HEAD\n');
      return;
    }
    loadJwks(opts.db).then(
      (jwks) => {
        const body = JSON.stringify(jwks);
        const etag = jwksEtag(body);
        const headers = { etag, 'cache-control': `public, max-age=${opts.cacheSeconds}`, 'content-type': 'application/jwk-set+json' };
        if (req.headers['if-none-match']?.split(/\s*,\s*/).includes(etag)) {
          res.writeHead(304, headers).end();
          return;
        }
        res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(body) }).end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        log.error({ err }, 'cannot read the JWKS');
        res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '5' }).end('JWKS temporarily unavailable\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}${JWKS_PATHS[0]}`;
  log.info({ url, cacheSeconds: opts.cacheSeconds }, 'serving the JWKS');
  return {
    url,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
