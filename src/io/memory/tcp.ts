/**
 * In-memory TCP for the PPTP control connection (TCP 1723, RFC 2637 §2):
 * {@link MemorySocket} is a `stream.Duplex` with the parts of `net.Socket`
 * the drivers use (addresses, ports, setNoDelay/setKeepAlive/setTimeout as
 * no-ops), so a driver written against `net.Socket` runs on it unchanged.
 *
 * TCP is a byte stream, so the fake does not keep write boundaries unless
 * asked to: with a `seed`, the bytes written in one tick are coalesced and
 * re-cut into random pieces of 1..`maxChunk` bytes, which exercises the PPTP
 * framer's partial and coalesced messages (mqtt-packet's lesson). Ending one
 * side gives the other 'end' (FIN); `reset()` destroys both with ECONNRESET.
 */
import { Duplex } from 'node:stream';
import { type Random, randomInt, seededRandom } from './random.js';

export interface MemoryTcpOptions {
  /** Re-chunk the byte stream with this PRNG seed (default: one chunk per write). */
  seed?: number;
  /** Largest piece when re-chunking (default 64). */
  maxChunk?: number;
}

export interface Endpoint {
  address: string;
  port: number;
}

export class MemorySocket extends Duplex {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly remoteFamily = 'IPv4';
  bytesWritten = 0;
  bytesRead = 0;
  private peer: MemorySocket | undefined;
  private readonly rnd: Random | undefined;
  private readonly maxChunk: number;
  private outgoing: Buffer[] = [];
  private sendScheduled = false;
  private finSent = false;

  /** @internal Use {@link createTcpPair} or {@link MemoryTcpNetwork}. */
  constructor(local: Endpoint, remote: Endpoint, opts: MemoryTcpOptions) {
    super({ allowHalfOpen: false });
    this.localAddress = local.address;
    this.localPort = local.port;
    this.remoteAddress = remote.address;
    this.remotePort = remote.port;
    this.rnd = opts.seed === undefined ? undefined : seededRandom(opts.seed);
    this.maxChunk = opts.maxChunk ?? 64;
  }

  /** @internal */
  connectTo(peer: MemorySocket): void {
    this.peer = peer;
  }

  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  setKeepAlive(_enable?: boolean, _initialDelay?: number): this {
    return this;
  }

  setTimeout(_ms: number, _cb?: () => void): this {
    return this;
  }

  /** An abortive close (RST): both sides are destroyed, the peer with ECONNRESET. */
  reset(): void {
    const peer = this.peer;
    this.peer = undefined;
    this.destroy();
    if (peer && !peer.destroyed) {
      const err: NodeJS.ErrnoException = new Error('read ECONNRESET');
      err.code = 'ECONNRESET';
      err.errno = -104;
      err.syscall = 'read';
      peer.peer = undefined;
      peer.destroy(err);
    }
  }

  override _read(): void {
    // Data is pushed by the peer as it is written; there is no flow control.
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const peer = this.peer;
    if (!peer || peer.destroyed) {
      const err: NodeJS.ErrnoException = new Error('write EPIPE');
      err.code = 'EPIPE';
      cb(err);
      return;
    }
    this.bytesWritten += chunk.length;
    if (!this.rnd) {
      peer.receive(Buffer.from(chunk));
      cb();
      return;
    }
    this.outgoing.push(Buffer.from(chunk));
    if (!this.sendScheduled) {
      this.sendScheduled = true;
      queueMicrotask(() => this.sendOutgoing());
    }
    cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.sendOutgoing();
    const peer = this.peer;
    if (peer && !peer.destroyed && !this.finSent) peer.push(null);
    this.finSent = true;
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // A close without end(): the peer still sees FIN, as from close(2).
    const peer = this.peer;
    this.peer = undefined;
    if (peer && !peer.destroyed && !this.finSent) {
      this.sendOutgoing(peer);
      peer.push(null);
      this.finSent = true;
    }
    cb(err);
  }

  private receive(chunk: Buffer): void {
    if (this.destroyed) return;
    this.bytesRead += chunk.length;
    this.push(chunk);
  }

  /** Sends the coalesced bytes of this tick, cut at random points. */
  private sendOutgoing(peer = this.peer): void {
    this.sendScheduled = false;
    if (this.outgoing.length === 0) return;
    const all = Buffer.concat(this.outgoing);
    this.outgoing = [];
    if (!peer || peer.destroyed || !this.rnd) {
      peer?.receive(all);
      return;
    }
    for (let off = 0; off < all.length; ) {
      const n = Math.min(all.length - off, 1 + randomInt(this.rnd, this.maxChunk));
      peer.receive(all.subarray(off, off + n));
      off += n;
    }
  }
}

/** A connected pair, as after accept()/connect(): `[client, server]`. */
export function createTcpPair(
  opts: MemoryTcpOptions & { client?: Endpoint; server?: Endpoint } = {},
): [MemorySocket, MemorySocket] {
  const client = opts.client ?? { address: '192.0.2.1', port: 49152 };
  const server = opts.server ?? { address: '192.0.2.2', port: 1723 };
  const c = new MemorySocket(client, server, opts);
  const s = new MemorySocket(server, client, {
    ...opts,
    seed: opts.seed === undefined ? undefined : opts.seed + 1,
  });
  c.connectTo(s);
  s.connectTo(c);
  return [c, s];
}

/** A listener on a {@link MemoryTcpNetwork}. */
export interface MemoryListener {
  close(): void;
}

/**
 * Listeners and connections by address and port, for servers that accept
 * many control connections. `connect()` to a port nobody listens on fails
 * with ECONNREFUSED, asynchronously, as `net.connect` does.
 */
export class MemoryTcpNetwork {
  private readonly listeners = new Map<string, (socket: MemorySocket) => void>();
  private nextPort = 49152;
  private connections = 0;
  private readonly opts: MemoryTcpOptions;

  constructor(opts: MemoryTcpOptions = {}) {
    this.opts = opts;
  }

  listen(address: string, port: number, onConnection: (socket: MemorySocket) => void): MemoryListener {
    const key = `${address}:${port}`;
    if (this.listeners.has(key)) throw new Error(`listen EADDRINUSE ${key}`);
    this.listeners.set(key, onConnection);
    return { close: () => this.listeners.delete(key) };
  }

  connect(address: string, port: number, localAddress = '192.0.2.1'): MemorySocket {
    const onConnection = this.listeners.get(`${address}:${port}`);
    const local = { address: localAddress, port: this.nextPort++ };
    if (this.nextPort > 65535) this.nextPort = 49152;
    const n = this.connections++;
    const seed = this.opts.seed === undefined ? undefined : this.opts.seed + 2 * n;
    const [c, s] = createTcpPair({ ...this.opts, seed, client: local, server: { address, port } });
    queueMicrotask(() => {
      if (!onConnection) {
        const err: NodeJS.ErrnoException = new Error(`connect ECONNREFUSED ${address}:${port}`);
        err.code = 'ECONNREFUSED';
        c.destroy(err);
        return;
      }
      onConnection(s);
      c.emit('connect');
    });
    return c;
  }
}
