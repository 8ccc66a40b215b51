/**
 * A kernel TUN interface (IFF_TUN | IFF_NO_PI) as a {@link TunDevice}: the
 * counterpart of the PPP unit's network interface that `ppp_create_interface`
 * / `ppp_setup` make (point-to-point, no ARP, no link-layer header). Reads
 * and writes go through the native addon's batched, event-driven Port
 * (docs/native-io.md); addresses, MTU and routes are set with ip.ts.
 *
 * With `offload` (docs/native-io.md "TUN offloads", docs/performance.md) the
 * TUN is opened with IFF_VNET_HDR and TSO/USO/checksum offloads, so the
 * kernel hands over TCP super-packets of up to 64 KiB instead of one packet
 * per MSS. The `TunDevice` contract does not change: `onPacket` still sees
 * plain IP packets of at most the MTU, because super-packets are cut into
 * segments here (io/tcp-segment.ts), and consecutive TCP segments given to
 * `write()` in one batch are merged into super-packets before they reach
 * the kernel (io/tcp-segment-coalesce.ts).
 *
 * The interface exists while the fd is open (it is not made persistent):
 * `close()` removes it, and with it every address and route on it.
 */
import { closeSync } from 'node:fs';
import { WireError } from '../wire/errors.js';
import { loadAddon, netnsPath } from './native.js';
import { type RingOptions, RingPort, RingPortDevice, ringOptions } from './ring-port.js';
import {
  completeChecksum,
  GSO_MAX_HEADER_LENGTH,
  gsoSegment,
  inspectGso,
  newGsoLayout,
  plainVirtioNetHdr,
  readVirtioNetHdr,
  VIRTIO_NET_HDR_LENGTH,
  VirtioNetGso,
  VirtioNetHdrFlag,
  writePlainVirtioNetHdr,
} from './tcp-segment.js';
import { type CoalesceStats, TcpCoalescer, type TxSlots } from './tcp-segment-coalesce.js';
import type { PacketHandlers, TunDevice } from './types.js';

/** What `offload: true` turns on; each part can be switched off for measurements. */
export interface TunOffloadOptions {
  /**
   * TSO (TUN_F_TSO4 | TUN_F_TSO6) and, when the kernel has it, USO
   * (TUN_F_USO4 | TUN_F_USO6): read super-packets and segment them here.
   * Default true. Checksum offload (TUN_F_CSUM) is always on with offload.
   */
  segmentation?: boolean;
  /** Merge consecutive TCP segments written in one batch (GRO). Default true. */
  coalesce?: boolean;
  /** Verify each segment's TCP checksum before merging it. Default true (io/tcp-segment-coalesce.ts). */
  verifyChecksums?: boolean;
}

export interface TunOptions extends Partial<RingOptions> {
  /** Interface name, or a pattern with `%d` for the next free number. Default `pptp%d`. */
  name?: string;
  /** IFF_MULTI_QUEUE: several fds (queues) may attach to the same interface name. */
  multiQueue?: boolean;
  /** Create the interface inside this network namespace (`ip netns` name or path); default: ours. */
  netns?: string;
  /**
   * TUN offloads (IFF_VNET_HDR + TUNSETOFFLOAD): `true` for all of them, or
   * a {@link TunOffloadOptions}. Default off.
   */
  offload?: boolean | TunOffloadOptions;
}

/**
 * Default ring geometry. A slot holds the largest IPv4 datagram (65535
 * bytes), so no MTU setting can truncate a read; the memory is committed
 * only as far as packets actually fill the slots.
 */
export const TUN_RING_DEFAULTS: RingOptions = { slotSize: 65536, rxSlots: 32, txSlots: 32 };

/**
 * Slot size with offloads: a virtio-net header plus the largest super-packet
 * (an IPv6 one: 40 + 65535 bytes), rounded up.
 */
export const TUN_OFFLOAD_SLOT_SIZE = 65536 + 128;

/** Counters of the offload path. */
export interface TunOffloadStats {
  /** Super-packets read and segmented. */
  gsoPackets: number;
  /** Segments they became. */
  gsoSegments: number;
  /** Partial checksums completed on plain packets read. */
  checksumsCompleted: number;
  /** Packets read that the offload code refused (bad virtio-net header or layout), dropped. */
  offloadErrors: number;
  /** The transmit-side coalescer's counters. */
  coalesce: Readonly<CoalesceStats>;
}

export class Tun extends RingPortDevice implements TunDevice {
  /** The interface name the kernel gave (a `%d` pattern resolved). */
  readonly name: string;
  /** The offloads in force (after the kernel's answer), or undefined without offload. */
  readonly offloads: { tso: boolean; uso: boolean; coalesce: boolean; verifyChecksums: boolean } | undefined;
  private readonly offloadState: OffloadState | undefined;

  private constructor(name: string, port: RingPort, offload: TunOffloadOptions | undefined, uso: boolean) {
    super(port);
    this.name = name;
    if (offload) {
      const tso = offload.segmentation ?? true;
      const coalesce = offload.coalesce ?? true;
      const verifyChecksums = offload.verifyChecksums ?? true;
      this.offloads = { tso, uso: tso && uso, coalesce, verifyChecksums };
      this.offloadState = new OffloadState(port, coalesce, verifyChecksums);
    }
  }

  /** Creates the interface (needs CAP_NET_ADMIN). It starts down and without addresses: see ip.ts. */
  static open(opts: TunOptions = {}): Tun {
    const addon = loadAddon();
    const offload = offloadOptions(opts);
    let flags = opts.multiQueue ? addon.IFF_MULTI_QUEUE : 0;
    if (offload) flags |= addon.IFF_VNET_HDR;
    const { fd, name } = addon.openTun(opts.name ?? 'pptp%d', flags, opts.netns && netnsPath(opts.netns));
    let uso = false;
    if (offload) {
      try {
        let features = addon.TUN_F_CSUM;
        if (offload.segmentation ?? true) features |= addon.TUN_F_TSO4 | addon.TUN_F_TSO6;
        uso = (offload.segmentation ?? true) && setOffloadWithUso(addon, fd, features);
        if (!uso) addon.setTunOffload(fd, features);
      } catch (err) {
        closeSync(fd);
        throw err;
      }
    }
    return new Tun(name, tunPort(fd, opts, offload), offload, uso);
  }

  /**
   * Wraps an fd of an existing TUN interface, e.g. a `dupFd()` of another
   * Tun's fd handed to a worker thread so that each thread drives one
   * direction. The interface must have been opened with the same `offload`
   * setting (IFF_VNET_HDR and TUNSETOFFLOAD belong to the interface, not to
   * the fd). The Tun owns `fd` from here on.
   */
  static adopt(fd: number, opts: TunOptions & { name: string }): Tun {
    const offload = offloadOptions(opts);
    return new Tun(opts.name, tunPort(fd, opts, offload), offload, false);
  }

  /** Counters of the offload path, or undefined without offload. */
  get offloadStats(): Readonly<TunOffloadStats> | undefined {
    return this.offloadState?.stats;
  }

  start(handlers: PacketHandlers): void {
    this.port.start(this.offloadState ? this.offloadState.wrap(handlers) : handlers);
  }

  /**
   * Queues one IPv4 or IPv6 packet towards the host's stack (copied: the
   * caller may reuse `packet`). The kernel picks the protocol from the
   * version nibble (IFF_NO_PI). With offload, a TCP segment may be merged
   * into the previous one of its flow (see the file comment). Returns false
   * when dropped.
   */
  write(packet: Uint8Array): boolean {
    const o = this.offloadState;
    return o ? o.write(packet) : this.port.queue(packet);
  }

  /** {@link TunDevice.pause}: stops reading; the kernel queues (and, when its queue is full, drops) in the meantime. */
  pause(): void {
    this.port.pauseReceive();
  }

  /** {@link TunDevice.resume}. */
  resume(): void {
    this.port.resumeReceive();
  }
}

/** `offload` as options: `true` is all of them, absent or `false` none. */
function offloadOptions(opts: TunOptions): TunOffloadOptions | undefined {
  return opts.offload === true ? {} : opts.offload === false ? undefined : opts.offload;
}

/** The port of a TUN fd: bigger slots and a virtio-net header in front of every packet with offload. */
function tunPort(fd: number, opts: TunOptions, offload: TunOffloadOptions | undefined): RingPort {
  const defaults = offload ? { ...TUN_RING_DEFAULTS, slotSize: TUN_OFFLOAD_SLOT_SIZE } : TUN_RING_DEFAULTS;
  const minTx = offload ? VIRTIO_NET_HDR_LENGTH + 1 : 1;
  return new RingPort(fd, false, ringOptions(opts, defaults), minTx);
}

/** Shorthand for {@link Tun.open}. */
export function openTun(opts: TunOptions = {}): Tun {
  return Tun.open(opts);
}

/**
 * What the drivers open: a TUN with every offload (docs/performance.md: the
 * biggest lever of the data path), or, on a kernel that refuses
 * IFF_VNET_HDR or TUNSETOFFLOAD, a plain one; `onFallback` hears why.
 */
export function openTunPreferringOffload(
  opts: Omit<TunOptions, 'offload'>,
  onFallback?: (err: Error) => void,
): Tun {
  try {
    return Tun.open({ ...opts, offload: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Only a kernel without the feature: anything else (EPERM, EBUSY...) fails the plain open too.
    if (code !== 'EINVAL' && code !== 'ENOTTY' && code !== 'EOPNOTSUPP') throw err;
    onFallback?.(err as Error);
    return Tun.open(opts);
  }
}

/** Tries TSO plus USO; false when this kernel lacks USO (EINVAL), so the caller retries without. */
function setOffloadWithUso(addon: ReturnType<typeof loadAddon>, fd: number, features: number): boolean {
  try {
    addon.setTunOffload(fd, features | addon.TUN_F_USO4 | addon.TUN_F_USO6);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EINVAL') return false;
    throw err;
  }
}

/**
 * The offload path between a vnet-header TUN's ring and the stack:
 * receive splits super-packets and completes partial checksums; transmit
 * puts a virtio-net header in front of every packet and merges TCP runs.
 */
class OffloadState {
  readonly stats: TunOffloadStats;
  private readonly hdr = plainVirtioNetHdr();
  private readonly layout = newGsoLayout();
  private readonly headerScratch = new Uint8Array(GSO_MAX_HEADER_LENGTH);
  private readonly coalescer: TcpCoalescer | undefined;
  private user: PacketHandlers | undefined;
  private readonly emitSegment = (segment: Uint8Array): void => {
    this.user!.onPacket(segment);
  };

  constructor(
    private readonly port: RingPort,
    coalesce: boolean,
    verifyChecksums: boolean,
  ) {
    const slots: TxSlots = {
      bytes: port.txRing,
      slotSize: port.slotBytes,
      allocSlot: () => port.allocTx(),
      setSlotLength: (i, len) => port.setTxLength(i, len),
    };
    this.coalescer = coalesce ? new TcpCoalescer(slots, { verifyChecksums }) : undefined;
    const c = this.coalescer;
    if (c) port.onBeforeFlush(() => c.finish());
    this.stats = {
      gsoPackets: 0,
      gsoSegments: 0,
      checksumsCompleted: 0,
      offloadErrors: 0,
      coalesce: c ? c.stats : { packets: 0, merged: 0, superPackets: 0, badChecksums: 0, dropped: 0 },
    };
  }

  wrap(user: PacketHandlers): PacketHandlers {
    this.user = user;
    return {
      onPacket: (slot) => this.receive(slot),
      onBatchEnd: user.onBatchEnd && (() => user.onBatchEnd!()),
      onError: user.onError && ((err) => user.onError!(err)),
    };
  }

  /** One slot read from the TUN: virtio-net header, then a packet or a super-packet. */
  private receive(slot: Uint8Array): void {
    const st = this.stats;
    if (slot.length <= VIRTIO_NET_HDR_LENGTH) {
      st.offloadErrors++;
      return;
    }
    const h = readVirtioNetHdr(slot, 0, this.hdr);
    const p = slot.subarray(VIRTIO_NET_HDR_LENGTH);
    const gso = h.gsoType !== VirtioNetGso.None;
    try {
      if (gso) inspectGso(p, h, this.layout);
      else if ((h.flags & VirtioNetHdrFlag.NeedsCsum) !== 0) {
        completeChecksum(p, h.csumStart, h.csumOffset);
        st.checksumsCompleted++;
      }
    } catch (err) {
      // Data plane: a packet the offload code refuses is dropped and counted (docs/style.md §3).
      if (!(err instanceof WireError)) throw err;
      st.offloadErrors++;
      return;
    }
    if (!gso) {
      this.user!.onPacket(p);
      return;
    }
    // Validated above, so this cannot throw a WireError: whatever escapes is the handler's.
    st.gsoSegments += gsoSegment(p, h, this.layout, this.headerScratch, this.emitSegment);
    st.gsoPackets++;
  }

  write(packet: Uint8Array): boolean {
    const port = this.port;
    if (this.coalescer) {
      if (this.coalescer.push(packet)) return true;
      port.stats.txDropped++;
      return false;
    }
    if (packet.length === 0 || packet.length + VIRTIO_NET_HDR_LENGTH > port.slotBytes) {
      port.stats.txDropped++;
      return false;
    }
    const i = port.allocTx();
    if (i < 0) {
      port.stats.txDropped++;
      return false;
    }
    const at = i * port.slotBytes;
    writePlainVirtioNetHdr(port.txRing, at);
    port.txRing.set(packet, at + VIRTIO_NET_HDR_LENGTH);
    port.setTxLength(i, VIRTIO_NET_HDR_LENGTH + packet.length);
    return true;
  }
}
