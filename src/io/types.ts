/**
 * The two small interfaces the data path runs on (wireguard-go's `tun.Device`
 * and `conn.Bind`), so that the same drivers run on a real kernel TUN and raw
 * GRE socket or on the in-memory fakes in `io/memory/`.
 *
 * Receive is push-based and batched: the port calls `onPacket` once per
 * packet of a drained batch, then `onBatchEnd` once, so a consumer can flush
 * its own batched sends (sendmmsg) at the end of a wake-up.
 *
 * Ownership: the `packet` view passed to `onPacket` is only valid during that
 * call (it points into the port's receive ring). Copy it to keep it.
 */

export interface PacketHandlers {
  /** One received packet (an IPv4/IPv6 datagram for a TUN; a whole IPv4 packet incl. header for GRE). */
  onPacket(packet: Uint8Array): void;
  /** End of one receive batch. */
  onBatchEnd?(): void;
  /** The port failed or was closed under us. */
  onError?(err: Error): void;
}

/** A layer-3 TUN interface (IFF_TUN | IFF_NO_PI): point-to-point, no ARP, as `ppp_setup` makes a PPP unit. */
export interface TunDevice {
  /** Interface name as the kernel knows it (e.g. `pptp0`). */
  readonly name: string;
  /** Starts delivering packets read from the interface. */
  start(handlers: PacketHandlers): void;
  /**
   * Writes one IP packet to the interface (towards the host's stack). May be
   * queued for a batched write until `flush()`. Returns false when the packet
   * was dropped (queue full).
   */
  write(packet: Uint8Array): boolean;
  /** Flushes queued writes. */
  flush(): void;
  /**
   * Backpressure: stop delivering packets until {@link resume} (the rest of
   * a batch being delivered waits too). Packets the host sends meanwhile
   * wait in the interface's queue, as a PPP unit's do while
   * `ppp_start_xmit` has stopped the queue. Optional: a device without it
   * is never paused.
   */
  pause?(): void;
  /** Ends a {@link pause}; held packets are delivered on a later microtask, never from inside this call. */
  resume?(): void;
  /** Closes the fd; the kernel removes a non-persistent interface. Idempotent. */
  close(): void;
}

/**
 * A raw IPv4 socket for protocol 47 (GRE). Sends whole IPv4 packets whose
 * header the caller built (IP_HDRINCL, as `pptp_xmit` builds its own
 * `iphdr`), and receives whole IPv4 packets, header included.
 */
export interface GreSocket {
  start(handlers: PacketHandlers): void;
  /** Queues one IPv4 packet (header included) for sending; sent at `flush()` or when the batch fills. Returns false when dropped. */
  send(packet: Uint8Array): boolean;
  flush(): void;
  close(): void;
  /**
   * Optional early drop of GRE for Call IDs no call uses, below the JS
   * demultiplexer (the native socket does it in the addon). Every Call ID
   * starts refused once the first one is allowed.
   */
  setCallIdAllowed?(callId: number, allowed: boolean): void;
  /** Packets dropped by that filter. */
  readonly filteredPackets?: number;
}
