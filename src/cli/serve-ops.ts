/**
 * What `pptp-ts serve` runs beside the server for its operators
 * (docs/operations.md): the management socket, the metrics endpoint and
 * the reload (SIGHUP and `pptp-ts reload` take the same path).
 *
 * Reloadable: the secrets file (re-read; on error the old secrets stay),
 * `log.level` (unless `--log-level` fixed it), `limits.max-sessions`,
 * `limits.max-connections-per-address` and `client-to-client`. Everything
 * else (listen address, port, pool, interface, PPP and PPTP settings,
 * metrics, control socket, secrets path, radius) needs a restart; a reload that
 * finds them changed says so in the log.
 */

import type { Registry } from 'prom-client';
import { type ControlSocket, ControlSocketBusyError, listenControlSocket } from '../io/control-socket.js';
import { type LineLoggerOptions, setLogLevel } from '../io/log.js';
import { type MetricsEndpoint, startMetricsEndpoint } from '../io/metrics-http.js';
import type { Logger } from '../log/logger.js';
import { DEFAULT_CONTROL_SOCKET, type ServerConfig } from '../server/config.js';
import { serverManagementHandler } from '../server/management.js';
import { DasService, registerDasMetrics } from '../server/radius-das.js';
import type { PptpServer } from '../server/server.js';
import type { SystemServerEnv } from '../server/server-env.js';
import { ServerMetrics } from '../server/server-metrics.js';

export interface ServeOperations {
  /** Re-reads what can be re-read; returns what it did (for the log and `pptp-ts reload`). */
  reload(): string[];
  /** Where the Dynamic Authorization listener is bound (with `radius.das`). */
  readonly dasAddress: { readonly address: string; readonly port: number } | undefined;
  close(): Promise<void>;
}

/** Config keys a reload cannot change (compared as JSON). */
const RESTART_ONLY = [
  'listen',
  'port',
  'name',
  'local-ip',
  'pool',
  'secrets',
  'ms-dns',
  'ms-wins',
  'interface',
  'ppp',
  'pptp',
  'hooks',
  'metrics',
  'control-socket',
  'radius',
] as const;

/** Both have a Dynamic Authorization section, and nothing of `radius` differs but its client list. */
function onlyDasClientsDiffer(a: ServerConfig['radius'], b: ServerConfig['radius']): boolean {
  if (!a?.das || !b?.das) return false;
  const without = (r: NonNullable<ServerConfig['radius']>) =>
    JSON.stringify({ ...r, das: { ...r.das, clients: [] } });
  return without(a) === without(b);
}

export async function startServeOperations(o: {
  server: PptpServer;
  config: ServerConfig;
  /** Reads the config again, as at start-up (throws when it is unusable). */
  rereadConfig: () => ServerConfig;
  env: SystemServerEnv;
  log: Logger;
  logOptions: LineLoggerOptions;
  /** `--log-level` was given: a reload leaves the level alone. */
  levelFixed: boolean;
  /** More metrics for the same endpoint (RADIUS accounting). */
  extraMetrics?: (registry: Registry) => void;
  /** Accounting's Acct-Session-Id of a session, for Disconnect-Requests that name one. */
  acctSessionIdOf?: (id: number) => string | undefined;
}): Promise<ServeOperations> {
  const { server, env, log } = o;
  let current = o.config;
  const reload = (): string[] => {
    const done: string[] = [];
    let next: ServerConfig | undefined;
    try {
      next = o.rereadConfig();
    } catch (err) {
      log.log('error', 'config not re-read (the old one stays)', { error: (err as Error).message });
      done.push(`config: ${(err as Error).message}`);
    }
    try {
      env.reloadSecrets();
      server.secretsReloaded();
      done.push(`secrets (${env.secrets().length} entries)`);
      log.log('info', 'secrets re-read', { entries: env.secrets().length });
    } catch (err) {
      log.log('error', 'secrets not re-read (the old ones stay)', { error: (err as Error).message });
      done.push(`secrets: ${(err as Error).message}`);
    }
    if (next) {
      if (!o.levelFixed && next.log.level !== current.log.level) {
        setLogLevel(o.logOptions, next.log.level);
        done.push(`log.level ${next.log.level}`);
      }
      done.push(...server.applyReload(next));
      let needRestart: string[] = RESTART_ONLY.filter(
        (k) => JSON.stringify(next[k]) !== JSON.stringify(current[k]),
      );
      // Of `radius`, a reload takes the Dynamic Authorization clients alone (RFC 5176 §2.3: the
      // server answers the clients it is configured with); anything else in it needs a restart.
      let radiusTaken = false;
      if (das && needRestart.includes('radius') && onlyDasClientsDiffer(current.radius, next.radius)) {
        const clients = next.radius?.das?.clients ?? [];
        try {
          das.setClients(clients);
          radiusTaken = true;
          needRestart = needRestart.filter((k) => k !== 'radius');
          done.push(`radius.das.clients (${clients.length})`);
          log.log('info', 'dynamic authorization clients re-read', { clients: clients.length });
        } catch (err) {
          log.log('error', 'dynamic authorization clients not re-read (the old ones stay)', {
            error: (err as Error).message,
          });
          done.push(`radius.das.clients: ${(err as Error).message}`);
        }
      }
      if (needRestart.length) {
        log.log('warn', 'changed keys that take effect only after a restart', {
          keys: needRestart.join(','),
        });
        done.push(`restart needed for: ${needRestart.join(', ')}`);
      }
      const kept = RESTART_ONLY.filter((k) => !(k === 'radius' && radiusTaken));
      current = { ...next, ...Object.fromEntries(kept.map((k) => [k, current[k]])) } as ServerConfig;
    }
    log.log('info', 'reloaded', { what: done.join('; ') });
    return done;
  };

  let metrics: MetricsEndpoint | undefined;
  let control: ControlSocket | undefined;
  let das: DasService | undefined;
  try {
    // RFC 5176 Disconnect/CoA listener (radius.das); its address and clients need a restart to change.
    das = await DasService.start({
      config: o.config,
      server,
      clock: env.clock,
      log,
      ...(o.acctSessionIdOf ? { acctSessionIdOf: o.acctSessionIdOf } : {}),
    });
    if (o.config.metrics) {
      const m = new ServerMetrics(server);
      if (das) registerDasMetrics(m.registry, das);
      o.extraMetrics?.(m.registry);
      metrics = await startMetricsEndpoint(o.config.metrics.listen, m.registry, () => m.refresh(), log);
    }
    const path = o.config['control-socket'];
    if (path !== false) {
      const handler = serverManagementHandler({ server, now: () => env.clock.now(), reload });
      try {
        control = await listenControlSocket(path, handler, log);
      } catch (err) {
        // A second server on the default path (a test, another port): it runs without one.
        if (path !== DEFAULT_CONTROL_SOCKET || !(err instanceof ControlSocketBusyError)) throw err;
        log.log('warn', 'management socket not opened: another instance has it', { path });
      }
    }
  } catch (err) {
    das?.close();
    await metrics?.close();
    await control?.close();
    throw err;
  }
  return {
    reload,
    get dasAddress() {
      return das?.address;
    },
    close: async () => {
      das?.close();
      await control?.close();
      await metrics?.close();
    },
  };
}
