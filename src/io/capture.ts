/**
 * Packet capture without tcpdump: an AF_PACKET socket on one interface
 * (optionally inside a network namespace), drained on the libuv loop by the
 * native addon into a JS-owned ring (docs/native-io.md), each frame with its
 * direction and a kernel time stamp, written to a classic pcap file with the
 * pcap writer of `capture/pcap.ts`. `pptp-ts demo` uses it to show the
 * tunnel's outer link, which `pptp-ts decode` then dissects, on machines
 * without tcpdump or dumpcap.
 *
 * What the kernel hands a packet socket is what tcpdump sees: frames sent on
 * the interface (PACKET_OUTGOING) and received on it, before any firewall,
 * and large GSO/GRO packets as one frame when the interface has offloads.
 */
import { closeSync, createWriteStream, type WriteStream } from 'node:fs';
import { decodeLinkFrame, LinkType } from '../capture/link.js';
import { PCAP_MAX_CAPTURED_LENGTH, PcapWriter } from '../capture/pcap.js';
import type { Timestamp } from '../capture/types.js';
import {
  CAPTURE_META_PER_SLOT,
  loadAddon,
  type NativePort,
  netnsPath,
  PacketType,
  PortEvent,
  PortMode,
} from './native.js';
import { errnoError } from './ring-port.js';

/** ARPHRD_* values (linux/if_arp.h) of the interfaces a capture can frame. */
const ARPHRD_ETHER = 1;
const ARPHRD_LOOPBACK = 772;
const ARPHRD_NONE = 0xfffe;

/** What the filter and `onPacket` learn about a frame besides its bytes. */
export interface CapturedFrameInfo {
  /** `out` for frames this host sent on the interface (PACKET_OUTGOING), else `in`. */
  direction: 'in' | 'out';
  /** The raw `sll_pkttype`. */
  packetType: PacketType;
  /** Kernel receive time (SO_TIMESTAMPNS). */
  timestamp: Timestamp;
  /** Length on the wire; more than the bytes given when the frame was longer than the snap length. */
  originalLength: number;
}

export interface CaptureOptions {
  /** The interface to capture on. */
  ifname: string;
  /** Its network namespace (`ip netns` name or path); default: ours. */
  netns?: string;
  /** Write a classic pcap file here (created or truncated). */
  file?: string;
  /**
   * Keeps only the frames for which it returns true. `frame` is a view into
   * the capture ring, valid only during the call (as `info`, which is reused).
   */
  filter?: (frame: Uint8Array, info: CapturedFrameInfo) => boolean;
  /** Called for every frame that passed the filter (same ownership rules as `filter`). */
  onPacket?: (frame: Uint8Array, info: CapturedFrameInfo) => void;
  /** Bytes kept per frame (default 65536: whole frames, even GSO ones up to 64 KiB). */
  snapLength?: number;
  /** Frames read per wake-up (default 64). */
  slots?: number;
  /** SO_RCVBUF of the socket (default 4 MiB, capped by net.core.rmem_max). */
  rcvbufBytes?: number;
}

/** Counters of one capture. */
export interface CaptureStats {
  /** Frames read from the socket. */
  packets: number;
  /** Frames (and their captured bytes) kept after the filter. */
  kept: number;
  keptBytes: number;
  /** Frames the filter dropped. */
  filtered: number;
  /** Kept frames cut to the snap length. */
  truncated: number;
  outgoing: number;
  incoming: number;
}

/** A running capture. */
export interface Capture {
  readonly ifname: string;
  /** The pcap LINKTYPE_* of the frames (Ethernet, or raw IP on a TUN). */
  readonly linkType: LinkType;
  readonly stats: Readonly<CaptureStats>;
  /**
   * Reads what the kernel has already queued, stops, closes the socket and,
   * with `file`, flushes and closes the file. Resolves with the final
   * counters; rejects if the file could not be written or the socket failed.
   * Idempotent.
   */
  stop(): Promise<CaptureStats>;
}

/** The pcap link type for an interface's ARPHRD_* type. */
export function linkTypeForHardware(hwType: number): LinkType | undefined {
  switch (hwType) {
    case ARPHRD_ETHER:
    case ARPHRD_LOOPBACK: // lo carries (zeroed) Ethernet headers
      return LinkType.Ethernet;
    case ARPHRD_NONE: // a TUN: bare IPv4/IPv6 packets
      return LinkType.Raw;
    default:
      return undefined;
  }
}

/** The PPTP control port (RFC 2637 §2: "TCP port number 1723"). */
const PPTP_TCP_PORT = 1723;
const IPPROTO_TCP = 6;
const IPPROTO_GRE = 47;

/**
 * A capture filter that keeps a PPTP tunnel's outer traffic: IPv4 GRE
 * (protocol 47, the data channel, RFC 2637 §4) and TCP to or from port
 * 1723 (the control connection, §2), over IPv4 or IPv6, behind any VLAN
 * tags. For `startCapture({ filter: pptpTrafficFilter(LinkType.Ethernet) })`,
 * or with the capture's own `linkType`.
 */
export function pptpTrafficFilter(linkType: LinkType): (frame: Uint8Array) => boolean {
  return (frame) => {
    let ip: Uint8Array;
    try {
      const f = decodeLinkFrame(linkType, frame);
      if (!f.network) return false;
      ip = f.payload;
    } catch {
      return false; // a runt frame is not PPTP
    }
    let proto: number;
    let l4: number;
    if (ip.length >= 20 && ip[0]! >> 4 === 4) {
      proto = ip[9]!;
      l4 = (ip[0]! & 0x0f) * 4;
    } else if (ip.length >= 40 && ip[0]! >> 4 === 6) {
      proto = ip[6]!;
      l4 = 40;
    } else {
      return false;
    }
    if (proto === IPPROTO_GRE) return ip[0]! >> 4 === 4;
    if (proto !== IPPROTO_TCP || ip.length < l4 + 4) return false;
    const src = (ip[l4]! << 8) | ip[l4 + 1]!;
    const dst = (ip[l4 + 2]! << 8) | ip[l4 + 3]!;
    return src === PPTP_TCP_PORT || dst === PPTP_TCP_PORT;
  };
}

/**
 * Starts capturing on `opts.ifname` (needs CAP_NET_RAW). Throws at once when
 * the interface does not exist or has a link type a pcap cannot frame here.
 */
export function startCapture(opts: CaptureOptions): Capture {
  const addon = loadAddon();
  const snap = opts.snapLength ?? 65536;
  const slots = opts.slots ?? 64;
  if (!Number.isInteger(snap) || snap < 64 || snap > PCAP_MAX_CAPTURED_LENGTH) {
    throw new RangeError(`startCapture: snapLength ${snap} not in 64..${PCAP_MAX_CAPTURED_LENGTH}`);
  }
  if (!Number.isInteger(slots) || slots < 1 || slots > 4096) {
    throw new RangeError(`startCapture: slots ${slots} not in 1..4096`);
  }
  const { fd, hwType } = addon.openPacketSocket(
    opts.ifname,
    opts.rcvbufBytes ?? 4 << 20,
    opts.netns && netnsPath(opts.netns),
  );
  const linkType = linkTypeForHardware(hwType);
  const rxBuf = new ArrayBuffer(snap * slots);
  const rxLen = new Int32Array(slots);
  const rxMeta = new Float64Array(slots * CAPTURE_META_PER_SLOT);
  const stats: CaptureStats = {
    packets: 0,
    kept: 0,
    keptBytes: 0,
    filtered: 0,
    truncated: 0,
    outgoing: 0,
    incoming: 0,
  };
  const info: CapturedFrameInfo & { timestamp: { seconds: number; nanoseconds: number } } = {
    direction: 'in',
    packetType: PacketType.Host,
    timestamp: { seconds: 0, nanoseconds: 0 },
    originalLength: 0,
  };
  let failure: Error | undefined;
  let out: WriteStream | undefined;
  let writer: PcapWriter | undefined;

  const onEvent = (kind: PortEvent, n: number): void => {
    if (kind === PortEvent.Error) {
      failure ??= errnoError(`capture on ${opts.ifname}`, n);
      return;
    }
    if (kind !== PortEvent.Readable) return;
    for (let i = 0; i < n; i++) {
      const len = rxLen[i]!;
      const m = i * CAPTURE_META_PER_SLOT;
      const frame = new Uint8Array(rxBuf, i * snap, len);
      info.timestamp.seconds = rxMeta[m]!;
      info.timestamp.nanoseconds = rxMeta[m + 1]!;
      info.packetType = rxMeta[m + 2]! as PacketType;
      info.direction = info.packetType === PacketType.Outgoing ? 'out' : 'in';
      info.originalLength = rxMeta[m + 3]!;
      stats.packets++;
      if (opts.filter && !opts.filter(frame, info)) {
        stats.filtered++;
        continue;
      }
      stats.kept++;
      stats.keptBytes += len;
      if (info.originalLength > len) stats.truncated++;
      if (info.direction === 'out') stats.outgoing++;
      else stats.incoming++;
      opts.onPacket?.(frame, info);
      if (out && writer) {
        // record() copies the bytes out of the ring.
        out.write(
          writer.record({ timestamp: info.timestamp, data: frame, originalLength: info.originalLength }),
        );
      }
    }
  };

  if (linkType === undefined) {
    closeSync(fd);
    throw new Error(
      `startCapture: ${opts.ifname} has hardware type ARPHRD ${hwType}, which this capture cannot frame`,
    );
  }
  // From here the Port owns the fd (it closes it, also if this throws).
  const port: NativePort = new addon.Port(fd, PortMode.Capture, rxBuf, rxLen, snap, onEvent, rxMeta);
  if (opts.file) {
    writer = new PcapWriter({ linkType, snapLength: snap });
    out = createWriteStream(opts.file);
    out.on('error', (err) => {
      failure ??= err;
    });
    out.write(writer.fileHeader());
  }
  port.poll(true, false);

  let stopping: Promise<CaptureStats> | undefined;
  const stop = (): Promise<CaptureStats> => {
    stopping ??= (async () => {
      // Frames already queued on the socket are delivered by the next poll
      // phase of the loop; setImmediate runs after it.
      await new Promise<void>((r) => setImmediate(r));
      port.close();
      if (out) {
        const stream = out;
        await new Promise<void>((resolve) => {
          if (stream.destroyed) resolve();
          else stream.end(() => resolve());
        });
      }
      if (failure) throw failure;
      return { ...stats };
    })();
    return stopping;
  };

  return { ifname: opts.ifname, linkType, stats, stop };
}
