/**
 * A userspace impairment relay for the GRE path (this kernel has no netem).
 * It lives in a middle namespace between client and server: the client
 * dials the relay's client-side address, a `socat` there forwards TCP 1723
 * to the server unchanged, and the relay forwards GRE both ways through its
 * own raw socket (the project's `RawGreSocket`), rewriting the outer
 * addresses so that each side sees the relay as its peer (as a NAT that
 * knows PPTP would), and impairing each packet on the way: loss,
 * duplication, reordering (held back behind the next few packets, or at most
 * `reorderHoldMs`) and corruption (one bit flipped past the GRE header).
 * Every decision comes from a seeded generator, so a run is repeatable given
 * the same packet order.
 */

import { seededRandom } from '../../src/io/memory/random.js';
import { RawGreSocket } from '../../src/io/raw-gre.js';
import { parseIpv4 } from '../../src/wire/bytes.js';

export interface Impairments {
  // Mutable: a test may start clean and impair once the tunnel is up.
  /** Probability a packet is dropped. */
  loss: number;
  /** Probability a packet is sent twice. */
  duplicate: number;
  /** Probability a packet is held back and sent after the next 1–3 packets of its direction. */
  reorder: number;
  /** Probability one bit of the packet's GRE payload is flipped. */
  corrupt: number;
}

export interface RelayAddresses {
  /** The client's address, and the relay's address on the client's link (what the client dials). */
  client: string;
  relayClientSide: string;
  /** The relay's address on the server's link, and the server's address. */
  relayServerSide: string;
  server: string;
}

export interface RelayCounters {
  forwarded: number;
  lost: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
  /** GRE that was neither from the client nor from the server. */
  ignored: number;
}

interface Held {
  packet: Uint8Array;
  /** Packets of its direction still to pass before it. */
  after: number;
  fromClient: boolean;
  timer: NodeJS.Timeout;
}

export class ImpairRelay {
  readonly counters: RelayCounters = {
    forwarded: 0,
    lost: 0,
    duplicated: 0,
    reordered: 0,
    corrupted: 0,
    ignored: 0,
  };
  private readonly sock: RawGreSocket;
  private readonly rnd: () => number;
  private readonly a: { client: number; relayC: number; relayS: number; server: number };
  private readonly held: Held[] = [];
  private closed = false;

  constructor(
    netns: string,
    addresses: RelayAddresses,
    readonly impairments: Impairments,
    seed = 1,
    private readonly reorderHoldMs = 20,
  ) {
    this.a = {
      client: parseIpv4(addresses.client)!,
      relayC: parseIpv4(addresses.relayClientSide)!,
      relayS: parseIpv4(addresses.relayServerSide)!,
      server: parseIpv4(addresses.server)!,
    };
    this.rnd = seededRandom(seed);
    this.sock = RawGreSocket.open({ netns, rcvbufBytes: 4 << 20, sndbufBytes: 4 << 20 });
    this.sock.start({ onPacket: (p) => this.onPacket(p), onBatchEnd: () => this.sock.flush() });
  }

  private onPacket(p: Uint8Array): void {
    if (p.length < 20) return;
    const v = new DataView(p.buffer, p.byteOffset, p.length);
    const src = v.getUint32(12);
    const dst = v.getUint32(16);
    let out: Uint8Array;
    if (src === this.a.client && dst === this.a.relayC) {
      out = p.slice();
      this.readdress(out, this.a.relayS, this.a.server);
    } else if (src === this.a.server && dst === this.a.relayS) {
      out = p.slice();
      this.readdress(out, this.a.relayC, this.a.client);
    } else {
      this.counters.ignored++;
      return;
    }
    this.impair(out, src === this.a.client);
  }

  /** New outer addresses; the kernel recomputes the header checksum (raw(7), IP_HDRINCL). */
  private readdress(p: Uint8Array, src: number, dst: number): void {
    const v = new DataView(p.buffer, p.byteOffset, p.length);
    v.setUint32(12, src);
    v.setUint32(16, dst);
    v.setUint16(10, 0);
  }

  private impair(p: Uint8Array, fromClient: boolean): void {
    const im = this.impairments;
    // Packets held back in this direction move one step closer to release.
    this.releaseHeld(fromClient);
    if (this.rnd() < im.loss) {
      this.counters.lost++;
      return;
    }
    const ihl = (p[0]! & 0x0f) * 4;
    const greHeader = 8 + ((p[ihl]! & 0x10) !== 0 ? 4 : 0) + ((p[ihl + 1]! & 0x80) !== 0 ? 4 : 0);
    const payload = ihl + greHeader;
    if (p.length > payload && this.rnd() < im.corrupt) {
      const at = payload + Math.floor(this.rnd() * (p.length - payload));
      p[at]! ^= 1 << Math.floor(this.rnd() * 8);
      this.counters.corrupted++;
    }
    if (this.rnd() < im.reorder) {
      this.counters.reordered++;
      const h: Held = {
        packet: p,
        after: 1 + Math.floor(this.rnd() * 3),
        fromClient,
        timer: setTimeout(() => this.release(h), this.reorderHoldMs),
      };
      this.held.push(h);
      return;
    }
    this.emit(p);
    if (this.rnd() < im.duplicate) {
      this.counters.duplicated++;
      this.emit(p);
    }
  }

  private releaseHeld(fromClient: boolean): void {
    for (const h of [...this.held]) {
      if (h.fromClient !== fromClient) continue;
      if (--h.after <= 0) this.release(h);
    }
  }

  private release(h: Held): void {
    const i = this.held.indexOf(h);
    if (i < 0) return;
    this.held.splice(i, 1);
    clearTimeout(h.timer);
    if (this.closed) return;
    this.emit(h.packet);
    this.sock.flush();
  }

  private emit(p: Uint8Array): void {
    if (this.closed) return;
    if (this.sock.send(p)) this.counters.forwarded++;
  }

  close(): void {
    this.closed = true;
    for (const h of this.held) clearTimeout(h.timer);
    this.held.length = 0;
    this.sock.close();
  }
}
