/**
 * The UDP driver of the RADIUS client engine (`radius/radius-client.ts`): one
 * connected `node:dgram` socket per server, so the kernel delivers only
 * that server's datagrams and the engine's per-server Identifier space maps
 * onto a socket (RFC 2865 §3: the Identifier is matched with "the same
 * client source IP address and source UDP port"). It performs `send`
 * actions, hands every datagram to the engine, keeps one timer at the
 * engine's next deadline, and passes every other action to `onAction`.
 *
 * The engine is taken structurally (this layer does not import the
 * engines): anything with `receive`/`poll`/`nextDeadline` returning
 * actions tagged by `type` will do.
 */

import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { LogFields } from '../log/logger.js';
import { type Clock, realClock, type Timer } from './clock.js';

export interface RadiusUdpServer {
  readonly host: string;
  /** 1812 for authentication, 1813 for accounting (RFC 2865 §3, RFC 2866 §3). */
  readonly port: number;
}

/** The engine as the driver sees it. */
export interface RadiusUdpEngine<A extends { readonly type: string }> {
  receive(now: number, server: number, data: Uint8Array): A[];
  poll(now: number): A[];
  nextDeadline(): number | undefined;
}

export interface RadiusUdpOptions {
  readonly clock?: Clock;
  /** Socket errors (ICMP unreachable shows up as ECONNREFUSED): the engine's time-outs handle them. */
  readonly onError?: (message: string, fields: LogFields) => void;
  /** Local address to bind, default any. */
  readonly localAddress?: string;
}

export class RadiusUdpDriver<A extends { readonly type: string }> {
  private readonly sockets: Socket[] = [];
  private timer: Timer | undefined;
  private closed = false;
  private readonly clock: Clock;

  private constructor(
    private readonly engine: RadiusUdpEngine<A>,
    private readonly onAction: (a: A) => void,
    private readonly opts: RadiusUdpOptions,
  ) {
    this.clock = opts.clock ?? realClock;
  }

  /** Opens and connects one socket per server; rejects (and closes what it opened) if any fails. */
  static async open<A extends { readonly type: string }>(
    engine: RadiusUdpEngine<A>,
    servers: readonly RadiusUdpServer[],
    onAction: (a: A) => void,
    opts: RadiusUdpOptions = {},
  ): Promise<RadiusUdpDriver<A>> {
    const d = new RadiusUdpDriver(engine, onAction, opts);
    try {
      for (let i = 0; i < servers.length; i++) await d.connect(i, servers[i]!);
    } catch (e) {
      d.close();
      throw e;
    }
    return d;
  }

  private connect(index: number, server: RadiusUdpServer): Promise<void> {
    const socket = createSocket(isIPv6(server.host) ? 'udp6' : 'udp4');
    this.sockets.push(socket);
    socket.on('message', (msg) => {
      if (this.closed) return;
      const data = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
      this.perform(this.engine.receive(this.clock.now(), index, data));
    });
    socket.on('error', (e) =>
      this.opts.onError?.('radius socket error', {
        server: `${server.host}:${server.port}`,
        error: e.message,
      }),
    );
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, this.opts.localAddress, () => {
        socket.connect(server.port, server.host, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    });
  }

  /** The clock's now, for the engine's `submit`. */
  now(): number {
    return this.clock.now();
  }

  /** Performs actions the engine returned (from `submit`, or any other call the owner made). */
  perform(actions: readonly A[]): void {
    for (const a of actions) {
      if (a.type === 'send') {
        const { server, data } = a as unknown as { server: number; data: Uint8Array };
        const socket = this.sockets[server];
        if (socket && !this.closed) {
          socket.send(data, (e) => {
            if (e) this.opts.onError?.('radius send failed', { server, error: e.message });
          });
        }
      } else {
        this.onAction(a);
      }
    }
    this.rearm();
  }

  private rearm(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.closed) return;
    const at = this.engine.nextDeadline();
    if (at === undefined) return;
    this.timer = this.clock.setTimer(at - this.clock.now(), () => {
      this.timer = undefined;
      if (!this.closed) this.perform(this.engine.poll(this.clock.now()));
    });
  }

  /** Stops the timer and closes the sockets. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
    for (const s of this.sockets) {
      try {
        s.close();
      } catch {
        // already closed
      }
    }
  }
}
