/**
 * The Prometheus scrape endpoint: `GET /metrics` on an HTTP listener, the
 * exposition of one prom-client registry. Before each scrape `refresh()`
 * reads the live counters (they stay where the data path keeps them), so
 * nothing is paid per packet. Bounded: a few concurrent scrapers, short
 * time-outs, GET only.
 */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../log/logger.js';

/** Concurrent connections the endpoint serves (scrapers are few). */
export const METRICS_MAX_CONNECTIONS = 8;

export interface MetricsEndpoint {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Parses `HOST:PORT` (IPv4 host, or `[v6]:PORT`). Returns undefined when malformed. */
export function parseListenAddress(s: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3}|localhost)):(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  const host = m[1] ?? m[2]!;
  if (m[2] && m[2] !== 'localhost' && m[2].split('.').some((o) => Number(o) > 255)) return undefined;
  return { host, port };
}

export async function startMetricsEndpoint(
  listen: string,
  registry: Registry,
  refresh: () => void,
  log: Logger,
): Promise<MetricsEndpoint> {
  const addr = parseListenAddress(listen);
  if (!addr) throw new Error(`metrics: '${listen}' is not HOST:PORT`);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(req.method === 'GET' ? 404 : 405, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    try {
      refresh();
    } catch (err) {
      log.log('warn', 'metrics: reading the counters failed', { error: (err as Error).message });
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  server.maxConnections = METRICS_MAX_CONNECTIONS;
  server.headersTimeout = 5000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.log('warn', 'metrics endpoint error', { error: err.message }));
  const a = server.address();
  const bound =
    typeof a === 'object' && a
      ? { address: a.address, port: a.port }
      : { address: addr.host, port: addr.port };
  log.log('info', 'metrics listening', { address: bound.address, port: bound.port });
  return {
    ...bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
