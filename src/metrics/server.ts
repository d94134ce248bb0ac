import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger.js';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `/metrics` in the Prometheus text format: our registry, followed by the Temporal SDK's runtime metrics
 * scraped from the SDK's own endpoint (`sdkMetricsUrl`, bound to loopback), so one scrape target has both.
 */
export async function startMetricsServer(opts: { registry: Registry; port: number; host?: string; sdkMetricsUrl?: string; logger: Logger }): Promise<MetricsServer> {
  const log = opts.logger.child({ component: 'metrics-server' });
  const render = async (): Promise<string> => {
    const ours = await opts.registry.metrics();
    if (!opts.sdkMetricsUrl) return ours;
    try {
      const res = await fetch(opts.sdkMetricsUrl, { signal: AbortSignal.timeout(5_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return `${ours}\n${await res.text()}`;
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'the Temporal SDK metrics could not be read; serving ours only');
      return ours;
    }
  };
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; metrics are at /metrics\n');
      return;
    }
    render().then(
      (body) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(body),
      (err: unknown) => {
        log.error({ err }, 'cannot render the metrics');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}/metrics`;
  log.info({ url }, 'serving metrics');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A free loopback port for the SDK's own metrics endpoint (which we proxy). */
export async function freeLoopbackPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
