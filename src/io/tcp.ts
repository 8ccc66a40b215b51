/**
 * TCP for the PPTP control connection (RFC 2637 §2: "The PPTP control
 * connection is a standard TCP session", port 1723), behind one small
 * interface so that the drivers run unchanged on `node:net`
 * ({@link systemTcp}) or on the in-memory network of `io/memory/tcp.ts`
 * ({@link memoryTcp}).
 *
 * A connection is a `stream.Duplex` with net.Socket's address fields; both
 * `net.Socket` and `MemorySocket` are one. Connect failures reject with
 * Node's system errors (`code` ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH...), so
 * callers can tell "refused" from "unreachable".
 */
import { createServer, type Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { MemorySocket, MemoryTcpNetwork } from './memory/tcp.js';

/** What the drivers use of a TCP connection (net.Socket and MemorySocket both fit). */
export interface TcpSocket extends Duplex {
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  setNoDelay(noDelay?: boolean): this;
  setKeepAlive(enable?: boolean, initialDelay?: number): this;
}

export interface TcpConnectOptions {
  /** Give up connecting after this long (default 15 s): rejects with code ETIMEDOUT. */
  timeoutMs?: number;
  /** Local address to connect from. */
  localAddress?: string;
}

export interface TcpListener {
  /** The bound address and port (port 0 resolved). */
  readonly address: string;
  readonly port: number;
  /** Stops accepting; connections already accepted stay open. */
  close(): Promise<void>;
}

export interface TcpListenOptions {
  /**
   * Connections the kernel completes and queues before we accept them
   * (listen(2)'s backlog; the kernel caps it at net.core.somaxconn). When the
   * queue is full the kernel drops new SYNs and each client waits for its
   * retransmission (1 s, then 3 s, 7 s...): what a burst of dials meets.
   * Absent: Node's default, 511.
   */
  backlog?: number;
}

export interface TcpTransport {
  /** Opens a connection; resolves once it is established. */
  connect(host: string, port: number, opts?: TcpConnectOptions): Promise<TcpSocket>;
  /** Listens on `address:port`; `onConnection` gets every accepted connection. */
  listen(
    address: string,
    port: number,
    onConnection: (socket: TcpSocket) => void,
    opts?: TcpListenOptions,
  ): Promise<TcpListener>;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;

function timeoutError(host: string, port: number): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`connect ETIMEDOUT ${host}:${port}`);
  err.code = 'ETIMEDOUT';
  err.syscall = 'connect';
  return err;
}

/**
 * Strips the IPv4-mapped prefix a dual-stack socket reports
 * (`::ffff:192.0.2.1` → `192.0.2.1`); other strings are returned as they are.
 */
export function plainIpv4(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** TCP on the host's stack (`node:net`). Sockets get TCP_NODELAY: control messages are small and latency matters. */
export const systemTcp: TcpTransport = {
  connect(host, port, opts = {}) {
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      const timeoutMs = opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(timeoutError(host, port));
      }, timeoutMs);
      const onError = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      socket.once('error', onError);
      socket.connect(
        { host, port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) },
        () => {
          clearTimeout(timer);
          socket.off('error', onError);
          socket.setNoDelay(true);
          resolve(socket);
        },
      );
    });
  },

  listen(address, port, onConnection, opts = {}) {
    return new Promise((resolve, reject) => {
      const server: Server = createServer({ noDelay: true }, (s) => onConnection(s));
      server.once('error', reject);
      const backlog = opts.backlog !== undefined ? { backlog: opts.backlog } : {};
      server.listen({ host: address, port, exclusive: true, ...backlog }, () => {
        server.off('error', reject);
        const a = server.address();
        const bound = typeof a === 'object' && a ? a : { address, port };
        resolve({
          address: bound.address,
          port: bound.port,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
            }),
        });
      });
    });
  },
};

/**
 * The same interface over an in-memory {@link MemoryTcpNetwork} (tests).
 * `localAddress` is the address this side's connections come from (the
 * client host's address on that network); there is no connect time-out
 * (the fake either connects or refuses at once).
 */
export function memoryTcp(net: MemoryTcpNetwork, localAddress = '192.0.2.1'): TcpTransport {
  return {
    connect(host, port, opts = {}) {
      return new Promise((resolve, reject) => {
        const s: MemorySocket = net.connect(host, port, opts.localAddress ?? localAddress);
        const onError = (err: Error) => reject(err);
        s.once('error', onError);
        s.once('connect', () => {
          s.off('error', onError);
          resolve(s);
        });
      });
    },
    listen(address, port, onConnection) {
      const l = net.listen(address, port, (s) => onConnection(s));
      return Promise.resolve({
        address,
        port,
        close: () => {
          l.close();
          return Promise.resolve();
        },
      });
    },
  };
}
