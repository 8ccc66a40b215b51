/**
 * The demo's ICMP echo (RFC 792 "Echo or Echo Reply Message"), sent and
 * received over a raw IPv4 socket for protocol 1 opened inside the client's
 * namespace: the same native raw socket the GRE data path uses, so the demo
 * needs no `ping` binary (a fresh Debian or a slim container has none).
 *
 * Each request is a whole IPv4 packet whose header we write (source 0: the
 * kernel fills in the address of the route's interface, the tunnel) followed
 * by an 8-byte ICMP header and 56 bytes of data, as iputils' `ping` sends.
 * A reply counts when it comes from the target, is an Echo Reply (type 0)
 * with our Identifier and a Sequence Number we sent and have not yet seen,
 * and its ICMP checksum is right.
 */
import { RawGreSocket } from '../../io/raw-gre.js';
import { parseIpv4, put16, u16, u32 } from '../../wire/bytes.js';
import { IPV4_MIN_HEADER_LENGTH, IpProtocol, internetChecksum, writeIpv4Header } from '../../wire/ipv4.js';

/** ICMP types (RFC 792). */
const ICMP_ECHO_REPLY = 0;
const ICMP_ECHO_REQUEST = 8;
/** ICMP header (type, code, checksum, identifier, sequence number). */
const ICMP_HEADER = 8;
/** Data bytes per request: iputils' default, 64 bytes of ICMP in all. */
const DATA_BYTES = 56;

export interface EchoOptions {
  /** `ip netns` name of the namespace to send from. */
  readonly netns: string;
  /** IPv4 address to ping. */
  readonly target: string;
  /** Requests to send. */
  readonly count: number;
  /** Gap between requests. */
  readonly intervalMs: number;
  /** How long to wait for replies after the last request. */
  readonly waitMs: number;
  /** Stops early (the result so far is returned). */
  readonly signal?: AbortSignal;
}

export interface EchoResult {
  readonly transmitted: number;
  readonly received: number;
  /** Round-trip times of the replies, in milliseconds, in arrival order. */
  readonly rttsMs: readonly number[];
}

/** Builds one Echo Request (IPv4 header + ICMP) to `target`. Exported for the unit test. */
export function echoRequest(target: number, identifier: number, sequence: number): Uint8Array {
  const icmpLength = ICMP_HEADER + DATA_BYTES;
  const p = new Uint8Array(IPV4_MIN_HEADER_LENGTH + icmpLength);
  writeIpv4Header(p, 0, icmpLength, 0, true, 64, IpProtocol.Icmp, 0, target);
  const o = IPV4_MIN_HEADER_LENGTH;
  p[o] = ICMP_ECHO_REQUEST;
  put16(p, o + 4, identifier);
  put16(p, o + 6, sequence);
  for (let i = 0; i < DATA_BYTES; i++) p[o + ICMP_HEADER + i] = (0x10 + i) & 0xff;
  put16(p, o + 2, internetChecksum(p, o, icmpLength));
  return p;
}

/**
 * The Sequence Number of `packet` if it is a well-formed Echo Reply from
 * `target` with our `identifier`, else undefined. Exported for the unit test.
 */
export function echoReplySequence(
  packet: Uint8Array,
  target: number,
  identifier: number,
): number | undefined {
  if (packet.length < IPV4_MIN_HEADER_LENGTH || packet[0]! >> 4 !== 4) return undefined;
  const ihl = (packet[0]! & 0x0f) * 4;
  const total = u16(packet, 2);
  if (ihl < IPV4_MIN_HEADER_LENGTH || total > packet.length || total < ihl + ICMP_HEADER) return undefined;
  if (packet[9] !== IpProtocol.Icmp) return undefined;
  if (u32(packet, 12) !== target) return undefined;
  const o = ihl;
  if (packet[o] !== ICMP_ECHO_REPLY || packet[o + 1] !== 0) return undefined;
  // An odd length (not ours: we send 64 bytes) is padded with a zero for the sum (RFC 792).
  let body = packet.subarray(o, total);
  if (body.length % 2) {
    const even = new Uint8Array(body.length + 1);
    even.set(body);
    body = even;
  }
  if (internetChecksum(body, 0, body.length) !== 0) return undefined;
  if (u16(packet, o + 4) !== identifier) return undefined;
  return u16(packet, o + 6);
}

/** Pings `target` from namespace `netns`; never throws for lost replies (the counts say so). */
export async function icmpEcho(opts: EchoOptions): Promise<EchoResult> {
  const target = parseIpv4(opts.target);
  if (target === undefined) throw new Error(`not an IPv4 address: ${opts.target}`);
  const identifier = (process.pid ^ Math.floor(Math.random() * 0x10000)) & 0xffff;
  const socket = RawGreSocket.open({ protocol: IpProtocol.Icmp, netns: opts.netns, rxSlots: 8, txSlots: 8 });
  const sentAt = new Map<number, number>();
  const rttsMs: number[] = [];
  let transmitted = 0;
  let allIn: () => void = () => {};
  socket.start({
    onPacket(packet) {
      const seq = echoReplySequence(packet, target, identifier);
      const t = seq === undefined ? undefined : sentAt.get(seq);
      if (seq === undefined || t === undefined) return;
      sentAt.delete(seq);
      rttsMs.push(performance.now() - t);
      if (transmitted === opts.count && sentAt.size === 0) allIn();
    },
  });
  /** Resolves after `ms`, on abort, or (`early`) once every reply is in. */
  const pause = (ms: number, early = false) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(finish, ms);
      function finish() {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', finish);
        allIn = () => {};
        resolve();
      }
      opts.signal?.addEventListener('abort', finish, { once: true });
      if (early) allIn = finish;
    });
  try {
    for (let seq = 1; seq <= opts.count && !opts.signal?.aborted; seq++) {
      if (seq > 1) await pause(opts.intervalMs);
      sentAt.set(seq, performance.now());
      socket.send(echoRequest(target, identifier, seq));
      socket.flush();
      transmitted++;
    }
    if (!opts.signal?.aborted && sentAt.size > 0) await pause(opts.waitMs, true);
  } finally {
    socket.close();
  }
  return { transmitted, received: rttsMs.length, rttsMs };
}
