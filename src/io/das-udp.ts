/**
 * The UDP side of the Dynamic Authorization Server (RFC 5176 §2.3: "UDP
 * port 3799 is used as the destination port. For responses, the source and
 * destination ports are reversed"): one socket bound to the configured
 * address; each datagram goes to `handle` with its source, and what it
 * returns is sent back to that source. The engine is not imported here
 * (io/ does not import engines): `handle` is the owner's.
 */

import { createSocket, type Socket } from 'node:dgram';
import type { LogFields } from '../log/logger.js';

export interface DasUdpSource {
  readonly address: string;
  readonly port: number;
}

export interface DasUdpOptions {
  /** Socket errors after the bind (the listener keeps running). */
  readonly onError?: (message: string, fields: LogFields) => void;
}

export class DasUdpListener {
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    readonly address: DasUdpSource,
  ) {}

  /** Binds `host:port`; rejects (with the socket closed) when the bind fails. */
  static open(
    host: string,
    port: number,
    handle: (data: Uint8Array, from: DasUdpSource) => Uint8Array | undefined,
    opts: DasUdpOptions = {},
  ): Promise<DasUdpListener> {
    const socket = createSocket({ type: 'udp4' });
    return new Promise((resolve, reject) => {
      const failed = (e: Error): void => {
        try {
          socket.close();
        } catch {
          // never bound
        }
        reject(e);
      };
      socket.once('error', failed);
      socket.bind(port, host, () => {
        socket.off('error', failed);
        const bound = socket.address();
        const l = new DasUdpListener(socket, { address: bound.address, port: bound.port });
        socket.on('error', (e) => opts.onError?.('das socket error', { error: e.message }));
        socket.on('message', (msg, rinfo) => {
          if (l.closed) return;
          const from = { address: rinfo.address, port: rinfo.port };
          const reply = handle(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), from);
          if (reply && !l.closed) {
            socket.send(reply, from.port, from.address, (e) => {
              if (e)
                opts.onError?.('das send failed', { to: `${from.address}:${from.port}`, error: e.message });
            });
          }
        });
        resolve(l);
      });
    });
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}
