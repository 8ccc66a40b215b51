/**
 * A session's network on the host (docs/client-server.md "Interfaces"): in
 * shared mode a host route to the client's address through the shared TUN;
 * in per-session mode the session's own point-to-point TUN, with the IPv6
 * link-local pair once IPV6CP is up; the ip-up/ip-down hooks' context; and
 * undoing all of it when the session ends. One instance per server.
 */
import type { Clock } from '../io/clock.js';
import type { HookContext } from '../io/hooks.js';
import type { Undo } from '../io/ip.js';
import type { TunDevice } from '../io/types.js';
import type { Logger } from '../log/logger.js';
import type { GreEndpoint } from '../session/gre-endpoint.js';
import type { SessionInfo } from '../session/session.js';
import { ipv4ToString } from '../wire/bytes.js';
import type { ServerConfig } from './config.js';
import type { ServerCall, ServerEnv } from './server-types.js';
import type { TunRouter } from './tun-router.js';

/** `pptps0` → `pptps%d`: the per-session interface pattern from the configured name. */
export function perSessionPattern(name: string): string {
  return name.includes('%d') ? name : `${name.replace(/\d+$/, '')}%d`;
}

export class CallNetwork {
  /** The shared GRE endpoint, once the server started (a per-session TUN flushes it after each batch). */
  endpoint: GreEndpoint | undefined;

  constructor(
    private readonly config: ServerConfig,
    /** Read at each use: tests replace its methods. */
    private readonly env: ServerEnv,
    private readonly clock: Clock,
    private readonly router: TunRouter,
  ) {}

  /**
   * Routes the session's address (shared mode) or opens and configures its
   * own interface (per-session mode). Returns the interface name, or
   * undefined when the call ended meanwhile (what was set up is undone);
   * throws when the host refuses.
   */
  async setUp(call: ServerCall, info: SessionInfo, mtu: number, log: Logger): Promise<string | undefined> {
    const cfg = this.config;
    if (cfg.interface.mode === 'shared') {
      const ifname = this.router.sharedTun!.name;
      const u = await this.env.host.addClientRoute(ifname, info.remoteAddress, cfg['local-ip'], mtu);
      if (call.ended) {
        await u.undo();
        return undefined;
      }
      call.undo.push(u);
      return ifname;
    }
    const tun = this.env.openTun(perSessionPattern(cfg.interface.name));
    if (call.ended) {
      tun.close();
      return undefined;
    }
    call.tun = tun;
    const ifname = tun.name;
    tun.start({
      onPacket: (p) => {
        if (call.ended) return;
        call.session.sendPacket(p);
        // Backpressure: this interface feeds one call, so it waits while the peer's window is closed.
        if (call.session.transmitBlocked) tun.pause?.();
      },
      onBatchEnd: () => this.endpoint?.flush(),
    });
    const u = await this.env.host.configurePointToPoint(
      ifname,
      cfg['local-ip'],
      info.remoteAddress,
      info.mtu,
    );
    if (call.ended) {
      await u.undo();
      return undefined;
    }
    call.undo.push(u);
    await this.addIpv6(call, log);
    return ifname;
  }

  /**
   * Per-session mode with IPV6CP: the link-local pair on the session's
   * interface, once both exist (IPV6CP and IPCP come up in either order).
   */
  async addIpv6(call: ServerCall, log: Logger): Promise<void> {
    const n = call.ipv6;
    const tun = call.tun;
    if (!n || !tun || call.ipv6Added || call.ended) return;
    call.ipv6Added = true;
    const u = await this.env.host.addLinkLocal(tun.name, n.localIdentifier, n.remoteIdentifier);
    if (call.ended) {
      await u.undo();
      return;
    }
    call.undo.push(u);
    log.log('info', 'session IPv6 up', {
      ifname: tun.name,
      local: n.localLinkLocal,
      remote: n.remoteLinkLocal,
    });
  }

  /** Runs the ip-up hook, if configured (the call is up on `ifname`). */
  async ipUp(call: ServerCall, ifname: string): Promise<void> {
    const script = this.config.hooks['ip-up'];
    if (!script || !this.env.runHook) return;
    call.ipUpRan = true;
    await this.env.runHook(script, 'ip-up', this.hookContext(call, ifname));
  }

  /**
   * The call ended: undoes its route, interface and addresses (newest
   * first), closes its TUN and runs ip-down if ip-up ran. What it needs of
   * the call is taken now, before the returned promise runs.
   */
  tearDown(call: ServerCall): Promise<void> {
    const ifname = call.tun?.name ?? this.router.sharedTun?.name ?? '';
    const undo = call.undo.splice(0);
    const tun = call.tun;
    const hook = call.ipUpRan ? this.config.hooks['ip-down'] : undefined;
    const ctx = hook ? this.hookContext(call, ifname, true) : undefined;
    return this.undoAll(undo.reverse(), tun, hook, ctx);
  }

  private async undoAll(
    undo: readonly Undo[],
    tun: TunDevice | undefined,
    hook: string | undefined,
    ctx: HookContext | undefined,
  ): Promise<void> {
    for (const u of undo) await u.undo();
    tun?.close();
    if (hook && ctx && this.env.runHook) await this.env.runHook(hook, 'ip-down', ctx);
  }

  private hookContext(call: ServerCall, ifname: string, down = false): HookContext {
    const c = call.session.stats.ppp;
    return {
      ifname,
      device: call.conn.remote,
      localIp: this.config['local-ip'],
      remoteIp: call.info?.remoteAddress ?? (call.address === undefined ? '' : ipv4ToString(call.address)),
      peerName: call.user ?? '',
      ...(down
        ? {
            connectTimeSeconds: (this.clock.now() - (call.upAt ?? call.startedAt)) / 1000,
            bytesSent: c.txBytes,
            bytesReceived: c.rxBytes,
          }
        : {}),
    };
  }
}
