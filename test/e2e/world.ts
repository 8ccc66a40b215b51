/**
 * An in-memory world for end-to-end tests (docs/style.md §5.6, wireguard-go's
 * tuntest/bindtest): a PPTP server and clients built from the real drivers
 * (src/server, src/client, src/session) over the in-memory TCP network, the
 * in-memory GRE network (with optional seeded faults) and in-memory TUNs,
 * on one {@link ManualClock}. Host changes (addresses, routes, DNS files)
 * go to recording fakes, so a test can check that nothing is left behind.
 */

import { type ClientUpInfo, PptpClient } from '../../src/client/client.js';
import type { ClientHost } from '../../src/client/client-host.js';
import type { ClientEnv, ClientOptions } from '../../src/client/options.js';
import type { ClientOutcome } from '../../src/client/outcome.js';
import { type Clock, ManualClock } from '../../src/io/clock.js';
import type { Undo } from '../../src/io/ip.js';
import { createMemoryLogger } from '../../src/io/log.js';
import { FaultInjector, type FaultOptions } from '../../src/io/memory/faults.js';
import { MemoryGreNetwork } from '../../src/io/memory/gre.js';
import { type MemorySocket, MemoryTcpNetwork } from '../../src/io/memory/tcp.js';
import { MemoryTun } from '../../src/io/memory/tun.js';
import { memoryTcp, type TcpListenOptions, type TcpTransport } from '../../src/io/tcp.js';
import type { Logger } from '../../src/log/logger.js';
import { parseSecrets } from '../../src/server/chap-secrets.js';
import { type ServerConfig, validateServerConfig } from '../../src/server/config.js';
import { PptpServer } from '../../src/server/server.js';
import type { ServerHost } from '../../src/server/server-host.js';
import { GreEndpoint } from '../../src/session/gre-endpoint.js';

export const SERVER_ADDRESS = '192.0.2.2';

/** Lets every queued microtask, nextTick and immediate run (several rounds). */
export async function settle(rounds = 30): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Records host changes as descriptions; `applied` holds those not undone yet. */
export class RecordingHost implements ClientHost, ServerHost {
  readonly applied = new Set<string>();
  readonly history: string[] = [];
  pathMtuValue = 1500;
  /** Make the next operation whose description matches fail. */
  failOn: RegExp | undefined;

  private async apply(description: string): Promise<Undo> {
    if (this.failOn?.test(description)) throw new Error(`injected failure: ${description}`);
    this.applied.add(description);
    this.history.push(`+ ${description}`);
    let done = false;
    return {
      description,
      undo: async () => {
        if (done) return;
        done = true;
        this.applied.delete(description);
        this.history.push(`- ${description}`);
      },
    };
  }

  pathMtu = async (_server: string) => this.pathMtuValue;
  addServerRoute = (server: string) => this.apply(`route ${server}/32 via gateway`);
  configureInterface = (ifname: string, local: string, remote: string, mtu: number) =>
    this.apply(`${ifname} ${local} peer ${remote} mtu ${mtu}`);
  addRoute = (cidr: string, ifname: string) => this.apply(`route ${cidr} dev ${ifname}`);
  addDefaultRoute = (ifname: string) => this.apply(`default route dev ${ifname}`);
  writeResolvConf = (path: string, dns: readonly string[]) => this.apply(`resolv ${path} ${dns.join(' ')}`);
  addLinkLocal = (ifname: string, localId: Uint8Array, peerId: Uint8Array) =>
    this.apply(
      `link-local ${Buffer.from(localId).toString('hex')} peer ${Buffer.from(peerId).toString('hex')} dev ${ifname}`,
    );
  configureSharedInterface = (ifname: string, local: string, mtu: number) =>
    this.apply(`${ifname} ${local}/32 mtu ${mtu}`);
  addClientRoute = (ifname: string, client: string, local: string, mtu: number) =>
    this.apply(`route ${client}/32 dev ${ifname} src ${local} mtu ${mtu}`);
  configurePointToPoint = (ifname: string, local: string, client: string, mtu: number) =>
    this.apply(`${ifname} ${local} peer ${client} mtu ${mtu}`);
}

export const SECRETS_TEXT = `# client server secret addresses
alice * "correct horse" *
bob * hunter2 10.99.0.77
carol * s3cret *
mallory * blocked -
`;

export function serverConfig(over: Record<string, unknown> = {}): ServerConfig {
  const base: Record<string, unknown> = {
    listen: SERVER_ADDRESS,
    'local-ip': '10.99.0.1',
    pool: '10.99.0.10-10.99.0.200',
    secrets: '/dev/null',
    'ms-dns': ['10.99.0.1', '10.99.0.2'],
    ...over,
  };
  return validateServerConfig(base);
}

export interface WorldOptions {
  /** Default: a ManualClock (virtual time). */
  clock?: Clock;
  config?: ServerConfig;
  secrets?: string;
  /** Seeded faults on the GRE link, each direction. */
  faults?: { toServer?: FaultOptions; toClient?: FaultOptions };
  /** Re-chunk the TCP stream with this seed. */
  tcpSeed?: number;
}

export interface WorldClient {
  readonly client: PptpClient;
  readonly tun: MemoryTun;
  readonly host: RecordingHost;
  readonly log: Logger & { lines: string[] };
  readonly address: string;
  /** Resolves with the outcome once run() ends. */
  readonly outcome: Promise<ClientOutcome>;
  /** Resolves when the tunnel is up. */
  readonly up: Promise<ClientUpInfo>;
}

export class World {
  readonly clock: ManualClock;
  readonly tcp = new MemoryTcpNetwork();
  readonly gre = new MemoryGreNetwork();
  readonly serverHost = new RecordingHost();
  readonly serverLog = createMemoryLogger('debug');
  readonly serverTuns: MemoryTun[] = [];
  server: PptpServer;
  readonly faults: { toServer?: FaultInjector; toClient?: FaultInjector } = {};
  private readonly opts: WorldOptions;
  private nextClient = 1;

  /** The clock the drivers run on (the ManualClock unless the options gave another). */
  readonly driverClock: Clock;

  constructor(opts: WorldOptions = {}) {
    this.opts = opts;
    this.clock = new ManualClock(1_000_000);
    this.driverClock = opts.clock ?? this.clock;
    this.server = this.makeServer();
  }

  /** A new server on the same networks (after `server.shutdown()`), as after a restart. */
  async restartServer(): Promise<PptpServer> {
    this.server = this.makeServer();
    await this.server.start();
    return this.server;
  }

  private makeServer(): PptpServer {
    const opts = this.opts;
    const config = opts.config ?? serverConfig();
    const entries = parseSecrets(opts.secrets ?? SECRETS_TEXT);
    return new PptpServer(config, {
      clock: this.driverClock,
      log: this.serverLog,
      tcp: this.recordingTcp(),
      host: this.serverHost,
      openTun: (name) => {
        const t = new MemoryTun({ name: name.replace('%d', String(this.serverTuns.length)) });
        this.serverTuns.push(t);
        return t;
      },
      openGre: (_bind, bufferBytes) => {
        this.greBufferBytes.push(bufferBytes);
        return this.gre.socket(SERVER_ADDRESS);
      },
      secrets: () => entries,
    });
  }

  /** Server-side TCP sockets as accepted (so a test can cut one). */
  readonly serverSockets: MemorySocket[] = [];
  /** What each server start asked of its listening socket and its GRE socket. */
  readonly listenOptions: (TcpListenOptions | undefined)[] = [];
  readonly greBufferBytes: (number | undefined)[] = [];

  private recordingTcp(): TcpTransport {
    const t = memoryTcp(this.tcp, SERVER_ADDRESS);
    return {
      connect: t.connect,
      listen: (address, port, onConnection, opts) => {
        this.listenOptions.push(opts);
        return t.listen(address, port, (s) => {
          this.serverSockets.push(s as MemorySocket);
          onConnection(s);
        });
      },
    };
  }

  /** The shared TUN (shared mode). */
  get serverTun(): MemoryTun {
    return this.serverTuns[0]!;
  }

  async start(): Promise<void> {
    await this.server.start();
  }

  /** A client's environment on this world (its own GRE address 192.0.2.(10+n), TUN and recording host). */
  clientEnv(env: Partial<ClientEnv> = {}): {
    env: ClientEnv;
    tun: MemoryTun;
    host: RecordingHost;
    log: Logger & { lines: string[] };
    address: string;
  } {
    const n = this.nextClient++;
    const address = `192.0.2.${10 + n}`;
    const host = new RecordingHost();
    const log = createMemoryLogger('debug');
    const tun = new MemoryTun({ name: `ppp${n}` });
    let current = tun;
    if (this.opts.faults?.toServer) {
      this.faults.toServer = new FaultInjector(this.opts.faults.toServer);
      this.gre.setFaults(address, SERVER_ADDRESS, this.faults.toServer);
    }
    if (this.opts.faults?.toClient) {
      this.faults.toClient = new FaultInjector(this.opts.faults.toClient);
      this.gre.setFaults(SERVER_ADDRESS, address, this.faults.toClient);
    }
    return {
      env: {
        clock: this.driverClock,
        log,
        tcp: memoryTcp(this.tcp, address),
        host,
        // A closed TUN is replaced (a reconnecting client opens a new interface).
        openTun: () => {
          if (current.isClosed) current = new MemoryTun({ name: `ppp${n}` });
          return current;
        },
        openGre: (local) => {
          const endpoint = new GreEndpoint(this.gre.socket(local), this.driverClock);
          return { endpoint, release: () => endpoint.close() };
        },
        ...env,
      },
      tun,
      host,
      log,
      address,
    };
  }

  /** Starts a client as {@link clientEnv} sets it up. */
  startClient(over: Partial<ClientOptions> = {}, env: Partial<ClientEnv> = {}): WorldClient {
    const e = this.clientEnv(env);
    const client = new PptpClient(
      { server: SERVER_ADDRESS, user: 'alice', password: 'correct horse', ...over },
      e.env,
    );
    const up = new Promise<ClientUpInfo>((resolve) => {
      client.onUp = resolve;
    });
    const outcome = client.run();
    return { client, tun: e.tun, host: e.host, log: e.log, address: e.address, outcome, up };
  }

  /**
   * Runs microtasks until `done()`; when nothing moves, advances the clock to
   * the next timer. Fails after `maxMs` of virtual time.
   */
  async runUntil(done: () => boolean, maxMs = 120_000): Promise<void> {
    const limit = this.clock.now() + maxMs;
    while (!done()) {
      await settle();
      if (done()) return;
      const next = this.clock.nextDeadline();
      if (next === undefined || next > limit) {
        if (this.clock.now() >= limit || next === undefined) {
          throw new Error(
            `runUntil: condition not met (virtual time ${this.clock.now()}, next timer ${next})`,
          );
        }
        this.clock.advanceTo(limit);
        continue;
      }
      this.clock.advanceTo(next);
    }
  }

  /** Waits for a promise, moving virtual time as needed. */
  async wait<T>(p: Promise<T>, maxMs = 120_000): Promise<T> {
    let value: { v: T } | undefined;
    let error: { e: unknown } | undefined;
    p.then(
      (v) => {
        value = { v };
      },
      (e) => {
        error = { e };
      },
    );
    await this.runUntil(() => value !== undefined || error !== undefined, maxMs);
    if (error) throw error.e;
    return value!.v;
  }
}
