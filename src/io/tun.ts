/**
 * A kernel TUN interface (IFF_TUN | IFF_NO_PI) as a {@link TunDevice}: the
 * counterpart of the PPP unit's network interface that `ppp_create_interface`
 * / `ppp_setup` make (point-to-point, no ARP, no link-layer header). Reads
 * and writes go through the native addon's batched, event-driven Port
 * (docs/native-io.md); addresses, MTU and routes are set with ip.ts.
 *
 * The interface exists while the fd is open (it is not made persistent):
 * `close()` removes it, and with it every address and route on it.
 */
import { loadAddon, netnsPath } from './native.js';
import { type PortStats, type RingOptions, RingPort } from './ring-port.js';
import type { PacketHandlers, TunDevice } from './types.js';

export interface TunOptions extends Partial<RingOptions> {
  /** Interface name, or a pattern with `%d` for the next free number. Default `pptp%d`. */
  name?: string;
  /** IFF_MULTI_QUEUE: several fds (queues) may attach to the same interface name. */
  multiQueue?: boolean;
  /** Create the interface inside this network namespace (`ip netns` name or path); default: ours. */
  netns?: string;
}

/**
 * Default ring geometry. A slot holds the largest IPv4 datagram (65535
 * bytes), so no MTU setting can truncate a read; the memory is committed
 * only as far as packets actually fill the slots.
 */
export const TUN_RING_DEFAULTS: RingOptions = { slotSize: 65536, rxSlots: 32, txSlots: 32 };

export class Tun implements TunDevice {
  /** The interface name the kernel gave (a `%d` pattern resolved). */
  readonly name: string;
  private readonly port: RingPort;

  private constructor(name: string, port: RingPort) {
    this.name = name;
    this.port = port;
  }

  /** Creates the interface (needs CAP_NET_ADMIN). It starts down and without addresses: see ip.ts. */
  static open(opts: TunOptions = {}): Tun {
    const addon = loadAddon();
    const flags = opts.multiQueue ? addon.IFF_MULTI_QUEUE : 0;
    const { fd, name } = addon.openTun(opts.name ?? 'pptp%d', flags, opts.netns && netnsPath(opts.netns));
    const ring: RingOptions = {
      slotSize: opts.slotSize ?? TUN_RING_DEFAULTS.slotSize,
      rxSlots: opts.rxSlots ?? TUN_RING_DEFAULTS.rxSlots,
      txSlots: opts.txSlots ?? TUN_RING_DEFAULTS.txSlots,
    };
    return new Tun(name, new RingPort(fd, false, ring, 1));
  }

  /** Counters: packets/bytes each way, batches, drops, kernel errors. */
  get stats(): Readonly<PortStats> {
    return this.port.stats;
  }

  /** The fd, or -1 once closed (diagnostics only). */
  get fd(): number {
    return this.port.fd;
  }

  start(handlers: PacketHandlers): void {
    this.port.start(handlers);
  }

  /**
   * Queues one IPv4 or IPv6 packet towards the host's stack (copied: the
   * caller may reuse `packet`). The kernel picks the protocol from the
   * version nibble (IFF_NO_PI). Returns false when dropped.
   */
  write(packet: Uint8Array): boolean {
    return this.port.queue(packet);
  }

  flush(): void {
    this.port.flush();
  }

  /** Lets the process exit while the interface is open. */
  unref(): void {
    this.port.unref();
  }

  ref(): void {
    this.port.ref();
  }

  close(): void {
    this.port.close();
  }
}

/** Shorthand for {@link Tun.open}. */
export function openTun(opts: TunOptions = {}): Tun {
  return Tun.open(opts);
}
