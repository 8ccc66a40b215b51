/**
 * The PPP unit's data path (Linux ppp_generic's `ppp_start_xmit` and
 * `ppp_receive_nonmp_frame`), sans-IO: network-layer packets to and from
 * the channel, the per-protocol `npmode` with its transmit queues, MPPE
 * encryption and decryption in place, and the counters of the kernel's
 * `stats64`.
 *
 * The data path is synchronous and must not allocate per packet: a packet
 * is encrypted where it lies, in the headroom the caller left in front of
 * it, and received MPPE frames are decrypted in one scratch buffer shared
 * by every unit of the process.
 *
 * {@link PppUnitDataPath} is the base of {@link PppUnit} (src/ppp/unit.ts):
 * the control plane decides the npmodes, starts MPPE and answers for the
 * automata; the data path asks it only what a packet needs (is the NCP
 * Opened, the MTU LCP negotiated, a Protocol-Reject, a CCP Reset-Request).
 */

import { type Logger, nullLogger } from '../log/logger.js';
import { MPPE_HEADROOM, type MppeDecryptor, type MppeEncryptor } from '../mppe/mppe.js';
import { assertNever } from '../wire/bytes.js';
import { type PppFrame, PppProtocol } from '../wire/ppp.js';
import type { Fsm } from './fsm.js';
import type { IpcpNote } from './ipcp.js';
import type { Ipv6cpNote } from './ipv6cp.js';
import { DEFAULT_MRU, type LcpPolicy } from './lcp.js';
import { resolveUnitSettings, type UnitSettings } from './unit-settings.js';
import type {
  NpMode,
  PppChannel,
  PppCounters,
  PppInterfaceSink,
  PppPhase,
  PppUnitOptions,
} from './unit-types.js';

/**
 * Scratch memory shared by every unit of the process: the data path is
 * synchronous, so one buffer serves all sessions (a server with thousands
 * of links must not hold 128 KiB per link). `busy` guards against a
 * re-entrant use (a sink that feeds another unit from inside `deliver`):
 * that nested call gets a private buffer.
 */
const shared = {
  rx: new Uint8Array(0x10000),
  rxBusy: false,
  tx: new Uint8Array(0),
  txBusy: false,
};

function txScratch(size: number): Uint8Array {
  if (shared.txBusy) return new Uint8Array(size);
  if (shared.tx.length < size) shared.tx = new Uint8Array(size);
  return shared.tx;
}

/** IP version nibble → PPP protocol. */
function protocolOfIpPacket(p: Uint8Array, off: number): number | undefined {
  const v = p[off]! >>> 4;
  return v === 4 ? PppProtocol.Ipv4 : v === 6 ? PppProtocol.Ipv6 : undefined;
}

/** Resends allowed per packet sent: a flood of Reset-Requests costs at most this many packets each. */
export const RESET_RESENDS_PER_PACKET = 3;

/** The last packet of a stateful MPPE transmitter, in clear. */
export interface LastSent {
  buf: Uint8Array;
  length: number;
  /** Resends left before the next new packet. */
  budget: number;
}

interface QueuedPacket {
  buf: Uint8Array;
  offset: number;
  end: number;
}

/** Everything about one network protocol's transmit side. */
interface NetProto {
  mode: NpMode;
  /** Made by the first packet queued: most sessions never queue one. */
  queue: QueuedPacket[] | undefined;
}

/** The data path of one PPP link; the control plane lives in the subclass {@link PppUnit}. */
export abstract class PppUnitDataPath {
  readonly counters: PppCounters = {
    rxPackets: 0,
    rxBytes: 0,
    txPackets: 0,
    txBytes: 0,
    rxErrors: 0,
    txErrors: 0,
    rxDropped: 0,
    txDropped: 0,
    rxControl: 0,
    txControl: 0,
    protocolRejects: 0,
    resetRequestsSent: 0,
    resetRequestsReceived: 0,
    resetResends: 0,
  };
  protected phaseValue: PppPhase = 'Dead';
  protected readonly settings: UnitSettings;
  protected readonly log: Logger;
  protected encryptor: MppeEncryptor | undefined;
  protected decryptor: MppeDecryptor | undefined;
  protected readonly v4: NetProto = { mode: 'QUEUE', queue: undefined };
  protected readonly v6: NetProto = { mode: 'QUEUE', queue: undefined };
  /**
   * Stateful MPPE transmit only: the last network-layer packet we sent, in
   * clear, so a Reset-Request can be answered at once (see
   * {@link resendLastFlushed}). Undefined on every other link.
   */
  protected lastSent: LastSent | undefined;
  private resending = false;

  // What the control plane provides.
  /** LCP's negotiation: the MTU a packet must fit. */
  protected abstract readonly lcpPolicy: LcpPolicy;
  /** The NCP automata, while the Network phase runs: their state admits received packets. */
  protected abstract ipcp: Fsm<IpcpNote> | undefined;
  protected abstract ipv6cp: Fsm<Ipv6cpNote> | undefined;
  /** Answers a frame of a protocol we do not run with an LCP Protocol-Reject (RFC 1661 §5.7). */
  protected abstract protocolReject(frame: PppFrame): void;
  /** MPPE lost synchronisation: ask the peer to reset (RFC 3078 §8.2); `fresh` takes a new Identifier. */
  protected abstract sendResetRequest(fresh: boolean): void;

  constructor(
    readonly options: PppUnitOptions,
    readonly channel: PppChannel,
    readonly sink: PppInterfaceSink,
  ) {
    this.settings = resolveUnitSettings(options);
    this.log = options.log ?? nullLogger;
  }

  /** Bytes a caller of {@link send} must leave free before the packet for the zero-copy path. */
  get headroom(): number {
    return this.channel.headroom + MPPE_HEADROOM;
  }

  /** npmode of IPv4 (0x0021) or IPv6 (0x0057). */
  npmode(protocol: number): NpMode {
    return this.netProto(protocol)?.mode ?? 'ERROR';
  }

  /**
   * Whether a frame with this PPP protocol is believable from the peer now,
   * without receiving it (the GRE channel asks before it lets out-of-window
   * packets resynchronise it, docs/data-path.md): LCP always; once the link
   * is past authentication and MPPE is required or running, only
   * MPPE-compressed data and CCP besides; otherwise the protocols this unit
   * speaks.
   */
  plausible(protocol: number): boolean {
    if (protocol === PppProtocol.Lcp) return true;
    const phase = this.phaseValue;
    if (phase === 'Dead' || phase === 'Establish' || phase === 'Terminate') return false;
    if (protocol === PppProtocol.Pap || protocol === PppProtocol.Chap) return phase === 'Authenticate';
    if (phase === 'Authenticate') return false;
    if (this.decryptor || this.settings.mppeRequired)
      return protocol === PppProtocol.Compressed || protocol === PppProtocol.Ccp;
    return (
      protocol === PppProtocol.Ipv4 ||
      protocol === PppProtocol.Ipv6 ||
      protocol === PppProtocol.Ipcp ||
      protocol === PppProtocol.Ipv6cp ||
      protocol === PppProtocol.Ccp ||
      protocol === PppProtocol.Compressed
    );
  }

  /**
   * Sends one IP packet (IPv4 or IPv6 by its version nibble), copying it.
   * Returns what happened to it.
   */
  sendPacket(packet: Uint8Array): 'sent' | 'queued' | 'dropped' {
    const room = this.headroom;
    if (packet.length > 0xffff) {
      this.counters.txErrors++;
      return 'dropped';
    }
    const buf = txScratch(room + packet.length);
    buf.set(packet, room);
    const busy = shared.txBusy;
    shared.txBusy = true;
    try {
      return this.send(buf, room, room + packet.length);
    } finally {
      shared.txBusy = busy;
    }
  }

  /**
   * The zero-copy transmit path (ppp_start_xmit): `buf[offset, end)` is an
   * IP packet and the {@link headroom} bytes before it are ours to write
   * (MPPE header, PPP protocol, channel headers). The packet may be
   * encrypted in place.
   */
  send(buf: Uint8Array, offset: number, end: number): 'sent' | 'queued' | 'dropped' {
    if (end <= offset) {
      this.counters.txErrors++;
      return 'dropped';
    }
    const protocol = protocolOfIpPacket(buf, offset);
    const np = protocol === undefined ? undefined : this.netProto(protocol);
    if (protocol === undefined || !np) {
      this.counters.txErrors++;
      return 'dropped';
    }
    // Drop, accept or queue the packet (Linux's ppp_start_xmit switch on npmode).
    switch (np.mode) {
      case 'PASS':
        return this.transmit(protocol, buf, offset, end) ? 'sent' : 'dropped';
      case 'QUEUE':
        np.queue ??= [];
        if (np.queue.length >= this.settings.queueLimit) {
          this.counters.txDropped++;
          return 'dropped';
        }
        np.queue.push(this.copyWithHeadroom(buf, offset, end));
        return 'queued';
      case 'DROP':
        this.counters.txDropped++;
        return 'dropped';
      case 'ERROR':
        this.counters.txErrors++;
        return 'dropped';
      default:
        return assertNever(np.mode, 'npmode');
    }
  }

  // ─── Transmit ─────────────────────────────────────────────────────────

  private copyWithHeadroom(buf: Uint8Array, offset: number, end: number): QueuedPacket {
    const room = this.headroom;
    const copy = new Uint8Array(room + end - offset);
    copy.set(buf.subarray(offset, end), room);
    return { buf: copy, offset: room, end: copy.length };
  }

  /** PASS: optionally encrypt, then hand to the channel. */
  private transmit(protocol: number, buf: Uint8Array, offset: number, end: number): boolean {
    const len = end - offset;
    const mtu = Math.min(this.lcpPolicy.negotiated?.mtu ?? DEFAULT_MRU, this.channel.mtu);
    const enc = this.encryptor;
    if (len + (enc ? MPPE_HEADROOM : 0) > mtu) {
      this.counters.txErrors++;
      return false;
    }
    if (offset < this.headroom) {
      // Not enough room in front: copy once into scratch memory (the caller's bytes stay untouched).
      const room = this.headroom;
      const scratch = buf === shared.tx ? new Uint8Array(room + len) : txScratch(room + len);
      scratch.set(buf.subarray(offset, end), room);
      buf = scratch;
      offset = room;
      end = room + len;
    }
    let frameProtocol = protocol;
    let start = offset;
    if (enc) {
      const last = this.lastSent;
      if (last && !this.resending) {
        if (last.buf.length < len) last.buf = new Uint8Array(len);
        last.buf.set(buf.subarray(offset, end));
        last.length = len;
        last.budget = RESET_RESENDS_PER_PACKET;
      }
      start = enc.encrypt(protocol, buf, offset, end);
      frameProtocol = PppProtocol.Compressed;
    } else if (this.settings.mppeRequired) {
      // Never reached (npmode stays QUEUE until MPPE runs), but never send in clear when MPPE is required.
      this.counters.txDropped++;
      return false;
    }
    this.counters.txPackets++;
    this.counters.txBytes += len;
    if (this.channel.sendInPlace) this.channel.sendInPlace(buf, start, end - start, frameProtocol);
    else this.channel.send({ protocol: frameProtocol, payload: buf.subarray(start, end) });
    return true;
  }

  /**
   * Stateful MPPE, on the peer's Reset-Request: sends our last packet again
   * now, so that it carries the FLUSHED bit (RFC 3078 §8.2: the sender
   * "MUST ... set the FLUSHED bit in the next packet sent") without waiting
   * for the next packet from above. Until a flushed packet arrives the peer
   * discards everything from us; when the loss took the last packet of a
   * burst (a TCP sender's last segment, the ACK it waits for), nothing would
   * come before the upper layer's retransmission time-out, and each time-out
   * doubles the next. IP may duplicate packets (RFC 791), so a copy the peer
   * happened to get already is harmless. Bounded: at most
   * {@link RESET_RESENDS_PER_PACKET} resends per packet sent.
   */
  protected resendLastFlushed(): void {
    const last = this.lastSent;
    if (!last || last.length === 0 || last.budget === 0) return;
    const packet = last.buf.subarray(0, last.length);
    // Only while the protocol passes: never queued, and no drop counted for a resend.
    if (this.npmode(protocolOfIpPacket(packet, 0) ?? 0) !== 'PASS') return;
    last.budget--;
    this.resending = true;
    try {
      if (this.sendPacket(packet) === 'sent') this.counters.resetResends++;
    } finally {
      this.resending = false;
    }
  }

  private netProto(protocol: number): NetProto | undefined {
    if (protocol === PppProtocol.Ipv4) return this.settings.ipv4 ? this.v4 : undefined;
    if (protocol === PppProtocol.Ipv6) return this.settings.ipv6 ? this.v6 : undefined;
    return undefined;
  }

  /** Sets a protocol's npmode; PASS flushes its queue, DROP/ERROR discard it. */
  protected setMode(protocol: number, mode: NpMode): void {
    const np = this.netProto(protocol);
    if (!np || np.mode === mode) return;
    this.log.log('debug', `npmode 0x${protocol.toString(16)} ${np.mode} → ${mode}`);
    np.mode = mode;
    if (mode === 'QUEUE') return;
    const queued = np.queue;
    np.queue = undefined;
    if (!queued) return;
    if (mode === 'PASS') {
      for (const q of queued) this.transmit(protocol, q.buf, q.offset, q.end);
    } else {
      this.counters.txDropped += queued.length;
    }
  }

  // ─── Receive ──────────────────────────────────────────────────────────

  protected receiveData(
    protocol: number,
    buf: Uint8Array,
    start: number,
    end: number,
    decrypted: boolean,
  ): void {
    const fsm = protocol === PppProtocol.Ipv4 ? this.ipcp : this.ipv6cp;
    if (!this.netProto(protocol)) {
      this.protocolReject({ protocol, payload: buf.subarray(start, end) });
      return;
    }
    // RFC 1661 §3.6: "Any supported network-layer protocol packets received when the corresponding NCP is
    // not in the Opened state MUST be silently discarded."
    if (fsm?.state !== 'Opened') {
      this.counters.rxDropped++;
      return;
    }
    if (!decrypted && (this.decryptor || this.settings.mppeRequired)) {
      // Linux ppp_generic drops clear data once MPPE runs; with MPPE required we never accept it.
      this.counters.rxDropped++;
      return;
    }
    this.counters.rxPackets++;
    this.counters.rxBytes += end - start;
    this.sink.deliver(protocol, buf.subarray(start, end));
  }

  protected receiveCompressed(frame: PppFrame): void {
    const dec = this.decryptor;
    if (!dec && this.settings.mppeKeyBits.length === 0) {
      // We do no compression or encryption at all: the protocol is unsupported.
      this.protocolReject(frame);
      return;
    }
    if (!dec) {
      // CCP is supported but not Opened (RFC 1962 §2.1): discard.
      this.counters.rxDropped++;
      return;
    }
    const len = frame.payload.length;
    if (len > 0xffff) {
      this.counters.rxErrors++;
      return;
    }
    // Decrypt a copy: the channel's receive memory is not ours to change.
    const nested = shared.rxBusy;
    const buf = nested ? new Uint8Array(len) : shared.rx;
    buf.set(frame.payload);
    shared.rxBusy = true;
    try {
      this.decryptAndDeliver(dec, buf, len);
    } finally {
      shared.rxBusy = nested;
    }
  }

  private decryptAndDeliver(dec: MppeDecryptor, buf: Uint8Array, len: number): void {
    const verdict = dec.decrypt(buf, 0, len);
    switch (verdict) {
      case 'ok':
        break;
      case 'drop':
        this.counters.rxDropped++;
        return;
      case 'send-reset-request':
        this.counters.rxDropped++;
        this.sendResetRequest(true);
        return;
      default:
        assertNever(verdict, 'MPPE verdict');
    }
    const inner = dec.protocol;
    if (inner !== PppProtocol.Ipv4 && inner !== PppProtocol.Ipv6) {
      // RFC 3078 §3: only 0x0021–0x00FA are encrypted; we carry IPv4 and IPv6 only. Stateful, a protocol
      // nobody negotiated is most likely garbage from RC4 streams that parted: ask for a reset.
      this.counters.rxErrors++;
      if (dec.rejectDecrypted() === 'send-reset-request') this.sendResetRequest(true);
      return;
    }
    this.receiveData(inner, buf, dec.payloadOffset, dec.payloadEnd, true);
  }
}
