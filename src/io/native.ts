/**
 * Loader and types for the `pptp_io` N-API addon (native/pptp_io.cc,
 * docs/native-io.md): the only things Node lacks for a VPN data path, namely
 * a TUN device (open + TUNSETIFF), a raw IPv4 socket with IP_HDRINCL, and
 * event-driven batched reads/writes on both fds (uv_poll + recvmmsg /
 * sendmmsg / read / write).
 *
 * node-gyp-build finds the binary (docs/packaging.md): a local build in
 * build/Release (`node native/build.mjs`) when there is one, else the
 * prebuilt Node-API binary shipped in prebuilds/<platform>-<arch>/. It is
 * loaded lazily on first use so that code and tests that only use the
 * in-memory fakes never need it.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** How a native Port reads and writes its fd (the constructor's second argument; `false`/`true` mean Stream/Datagram). */
export enum PortMode {
  /** A TUN: `read()` until EAGAIN, one `write()` per packet. */
  Stream = 0,
  /** A raw IPv4 socket: `recvmmsg` / `sendmmsg`, each slot one whole IPv4 packet. */
  Datagram = 1,
  /**
   * An AF_PACKET capture socket: `recvmmsg` with MSG_TRUNC; a frame longer
   * than a slot keeps its first `slotSize` bytes; per slot, `rxMeta` gets
   * `[seconds, nanoseconds, sll_pkttype, original length]`. Cannot send.
   */
  Capture = 2,
}

/** Numbers per slot in a capture Port's `rxMeta` (see {@link PortMode.Capture}). */
export const CAPTURE_META_PER_SLOT = 4;

/** `sll_pkttype` values (linux/if_packet.h): who a captured frame was for, or that we sent it. */
export enum PacketType {
  /** To us. */
  Host = 0,
  Broadcast = 1,
  Multicast = 2,
  /** To another host (seen in promiscuous mode). */
  OtherHost = 3,
  /** Sent by this host on the interface. */
  Outgoing = 4,
}

/** Event kinds the native Port passes to its `onEvent(kind, n)` callback. */
export enum PortEvent {
  /** `n` packets were read into receive slots 0..n-1 (lengths in `rxLen`, -1 = truncated). */
  Readable = 1,
  /** The fd takes writes again (only when `poll(_, true)` asked for it). */
  Writable = 2,
  /** A read failed with errno `n`; reading has stopped. */
  Error = 3,
}

/**
 * One fd driven by libuv's poll. The Port owns the fd from construction on:
 * only `close()` (or GC of an idle, unreachable Port) closes it, and an
 * active poll pins the JS object so GC can never close an fd in use.
 */
export interface NativePort {
  /** Starts, changes or stops event delivery. Either flag pins the Port and keeps the loop alive (unless `unref()`). */
  poll(readable: boolean, writable: boolean): void;
  /**
   * Writes slots `[start, start + count)` of a ring (slot `i` at byte
   * `i * slotSize`, length `txLen[i]`). Returns how many were consumed (sent,
   * or dropped on a hard error, which sets `txLen[i] = -errno`); stops early
   * on EAGAIN. A datagram Port sends each slot to the IPv4 destination
   * address found at bytes 16..19 of the packet.
   */
  send(txBuf: ArrayBuffer, txLen: Int32Array, slotSize: number, start: number, count: number): number;
  /** Lets an active poll keep the event loop alive (the default). */
  ref(): void;
  /** Lets the process exit although the poll is active. */
  unref(): void;
  /** Stops the poll, closes the fd, drops the callback and buffers. Idempotent. */
  close(): void;
  /** The fd, or -1 once closed. */
  readonly fd: number;
  /**
   * Datagram Ports: with `filter` (8,200 bytes: one bit per GRE Call ID, then
   * a float64 count), received GRE packets whose Call ID bit is clear are
   * dropped in the addon, before JS, and counted in the last 8 bytes. The
   * Port reads the bits at every wake-up, so JS changes them in place.
   * Undefined removes it.
   */
  setCallIdFilter(filter: Uint8Array | undefined): void;
}

/** Counters of the busy-poll (see {@link PptpIoAddon.setBusyPoll}), since the thread loaded the addon. */
export interface NativeBusyPollStats {
  /** Spins started (wake-ups that delivered packets while the busy-poll was on). */
  spins: number;
  /** Spins that found at least one more batch. */
  hits: number;
  /** Batches delivered from inside a spin (each one call into JS). */
  batches: number;
  /** poll(2) calls made while spinning. */
  polls: number;
  /** Time spent spinning, batches handled inside included. */
  spinMicros: number;
}

/** The addon's exports. */
export interface PptpIoAddon {
  /**
   * Opens /dev/net/tun and attaches it to interface `name` ("" lets the
   * kernel choose; "pptp%d" picks the next free number) with IFF_TUN |
   * IFF_NO_PI | `flags` (only IFF_VNET_HDR and IFF_MULTI_QUEUE may be added).
   * The fd is O_NONBLOCK | O_CLOEXEC. With `netnsPath`, the interface is
   * created inside that network namespace (from a helper thread: the JS
   * thread never changes namespace).
   */
  openTun(name: string, flags: number, netnsPath?: string): { fd: number; name: string };
  /**
   * An AF_INET SOCK_RAW socket for `protocol` with IP_HDRINCL, optionally
   * bound to a local IPv4 address, O_NONBLOCK | O_CLOEXEC. Buffer sizes of 0
   * keep the kernel defaults. With `netnsPath`, the socket lives in that
   * network namespace.
   */
  openRawSocket(
    protocol: number,
    bindAddress: string | undefined,
    rcvbufBytes: number,
    sndbufBytes: number,
    netnsPath?: string,
  ): number;
  /**
   * An AF_PACKET SOCK_RAW socket bound to interface `ifname` for every
   * protocol (ETH_P_ALL): it sees each frame sent or received there, with
   * SO_TIMESTAMPNS receive times. `hwType` is the interface's ARPHRD_*
   * (1 Ethernet, 772 loopback, 0xfffe none: a TUN). Needs CAP_NET_RAW. With
   * `netnsPath`, the interface is looked up and the socket made in that
   * namespace. Drive it with a {@link PortMode.Capture} Port.
   */
  openPacketSocket(
    ifname: string,
    rcvbufBytes: number,
    netnsPath?: string,
  ): { fd: number; ifindex: number; hwType: number };
  /**
   * For a TUN opened with IFF_VNET_HDR: little-endian 10-byte virtio-net
   * headers (TUNSETVNETLE, TUNSETVNETHDRSZ) and the `TUN_F_*` offloads given
   * (TUNSETOFFLOAD). Throws EINVAL when the kernel lacks one of the flags.
   */
  setTunOffload(fd: number, offloads: number): void;
  /** `fcntl(F_DUPFD_CLOEXEC)`: a second fd for the same TUN or socket (e.g. one Port per thread). */
  dupFd(fd: number): number;
  /**
   * Attaches the classic BPF program (SO_ATTACH_FILTER) that lets only
   * enhanced GRE (RFC 2637 §4.1: K set, C/R/s/Recur clear, version 1,
   * protocol 0x880B) into a raw GRE socket's queue; with `callId`, only
   * such GRE whose Call ID field (the Key's low 16 bits) equals it. Replaces
   * the program attached before. A TypeError for a `callId` not 0..65535.
   */
  attachPptpGreFilter(fd: number, callId?: number): void;
  /**
   * Sends `message` as one datagram to the AF_UNIX socket `socketPath`
   * (`$NOTIFY_SOCKET`: a path, or `@name` in the abstract namespace), as
   * sd_notify(3) does. Non-blocking: a full queue throws EAGAIN.
   */
  sdNotify(socketPath: string, message: string): void;
  /**
   * The busy-poll of this thread's Ports (io/busy-poll.ts): after a wake-up
   * that delivered packets, keep polling every stream and datagram Port of
   * the thread without sleeping until `spinMicros` pass with nothing new,
   * at most `maxMicros` per wake-up. `0, 0` turns it off (the default).
   * Integers, spin 0..10000, max spin..100000; a TypeError otherwise.
   */
  setBusyPoll(spinMicros: number, maxMicros: number): void;
  /** This thread's busy-poll counters. */
  busyPollStats(): NativeBusyPollStats;
  Port: new (
    fd: number,
    mode: boolean | PortMode,
    rxBuf: ArrayBuffer,
    rxLen: Int32Array,
    slotSize: number,
    onEvent: (kind: PortEvent, n: number) => void,
    rxMeta?: Float64Array,
  ) => NativePort;
  readonly IFF_VNET_HDR: number;
  readonly IFF_MULTI_QUEUE: number;
  /** TUNSETOFFLOAD features (linux/if_tun.h). */
  readonly TUN_F_CSUM: number;
  readonly TUN_F_TSO4: number;
  readonly TUN_F_TSO6: number;
  readonly TUN_F_TSO_ECN: number;
  /** UDP segmentation offload, Linux 6.2+. */
  readonly TUN_F_USO4: number;
  readonly TUN_F_USO6: number;
}

/** The package root: src/io/ and dist/io/ both sit two levels below it. */
const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

let addon: PptpIoAddon | undefined;

/** Loads the addon once; throws an Error that says how to build it when there is none for this platform. */
/**
 * The functions these sources call. A binary built from older sources (a
 * build/Release left by an earlier checkout, which node-gyp-build prefers to
 * the prebuilt one) lacks some; native/install.mjs keeps the same list and
 * recompiles then.
 */
export const REQUIRED_ADDON_FUNCTIONS = [
  'openTun',
  'openRawSocket',
  'openPacketSocket',
  'setTunOffload',
  'dupFd',
  'attachPptpGreFilter',
  'sdNotify',
  'setBusyPoll',
  'busyPollStats',
  'Port',
] as const;

export function loadAddon(): PptpIoAddon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
  let loaded: PptpIoAddon;
  try {
    loaded = nodeGypBuild(PACKAGE_ROOT) as PptpIoAddon;
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw new Error(
      `pptp-ts native addon not available (${why}): run \`node native/build.mjs\` in ${PACKAGE_ROOT} (needs g++, make, python3)`,
    );
  }
  const missing = REQUIRED_ADDON_FUNCTIONS.filter(
    (f) => typeof (loaded as unknown as Record<string, unknown>)[f] !== 'function',
  );
  if (missing.length) {
    throw new Error(
      `pptp-ts native addon in ${PACKAGE_ROOT} is older than these sources (it has no ${missing.join(', ')}): run \`node native/build.mjs\` there, or remove its build/ directory to use the prebuilt one`,
    );
  }
  addon = loaded;
  return addon;
}

/** True when the addon is built and loads (system tests skip themselves otherwise). */
export function addonAvailable(): boolean {
  try {
    loadAddon();
    return true;
  } catch {
    return false;
  }
}

/**
 * The path of a network namespace given by `ip netns` name (`/var/run/netns/NAME`)
 * or already as a path (anything containing `/`, e.g. `/proc/PID/ns/net`).
 */
export function netnsPath(nameOrPath: string): string {
  return nameOrPath.includes('/') ? nameOrPath : `/var/run/netns/${nameOrPath}`;
}
