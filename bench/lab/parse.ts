/**
 * Parsers for the measuring tools' output: iperf3's JSON (`-J`, the format
 * of iperf 3.12 in Debian 12) and iputils ping's summary. Pure, so the tests
 * feed them real captured output (bench/lab/test/fixtures/, made by make.sh there).
 */

/** iperf3 said something other than a result (its `error` field, or not JSON). */
export class IperfError extends Error {
  override readonly name = 'IperfError';
}

/** One TCP run, as the receiver saw it. */
export interface TcpRun {
  /** Goodput at the receiver, Mbit/s (1e6 bit/s): `end.sum_received.bits_per_second`. */
  readonly mbps: number;
  /** The sender's figure, Mbit/s. */
  readonly sentMbps: number;
  /** TCP retransmissions counted by the sender's kernel. */
  readonly retransmits: number;
  /** Payload bytes the receiver got (after the omitted warm-up). */
  readonly bytes: number;
  readonly seconds: number;
  readonly streams: number;
  /** iperf3's own CPU use (percent of one core) on the sending and receiving host. */
  readonly senderCpuPct: number;
  readonly receiverCpuPct: number;
  /** When the test started, s since the epoch, whole seconds (`start.timestamp.timesecs`), if given. */
  readonly startedAtSec?: number;
}

/** One UDP run: what was offered and what arrived. */
export interface UdpRun {
  /** UDP payload size (`-l`). */
  readonly payloadBytes: number;
  readonly sentPackets: number;
  /** Datagrams that reached the receiving iperf3. */
  readonly receivedPackets: number;
  /** Received datagrams per second over the receiver's measuring time. */
  readonly receivedPps: number;
  /**
   * Datagrams sent but not received, percent of those sent. (iperf 3.12's
   * own `lost_percent` mixes the receiver's lost count with the sender's
   * packet count, so it is not used.)
   */
  readonly lossPct: number;
  /** Payload goodput at the receiver, Mbit/s. */
  readonly receivedMbps: number;
  readonly seconds: number;
}

type Json = Record<string, unknown>;

function obj(v: unknown, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new IperfError(`iperf3 JSON: ${where} missing`);
  return v as Json;
}

function num(o: Json, key: string, where: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new IperfError(`iperf3 JSON: ${where}.${key} missing`);
  return v;
}

function parseRoot(text: string): Json {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    throw new IperfError(`iperf3 printed no JSON: ${text.trim().slice(0, 200) || '(nothing)'}`);
  }
  const r = obj(root, 'top level');
  if (typeof r.error === 'string') throw new IperfError(`iperf3: ${r.error}`);
  return r;
}

/** Parses the JSON of an `iperf3 -c ... -J` TCP run. */
export function parseIperfTcp(text: string): TcpRun {
  const r = parseRoot(text);
  const start = obj(r.start, 'start');
  const test = obj(start.test_start, 'start.test_start');
  if (test.protocol !== 'TCP')
    throw new IperfError(`iperf3 JSON: protocol ${String(test.protocol)}, wanted TCP`);
  const end = obj(r.end, 'end');
  const sent = obj(end.sum_sent, 'end.sum_sent');
  const received = obj(end.sum_received, 'end.sum_received');
  const cpu = obj(end.cpu_utilization_percent, 'end.cpu_utilization_percent');
  return {
    mbps: num(received, 'bits_per_second', 'end.sum_received') / 1e6,
    sentMbps: num(sent, 'bits_per_second', 'end.sum_sent') / 1e6,
    retransmits: num(sent, 'retransmits', 'end.sum_sent'),
    bytes: num(received, 'bytes', 'end.sum_received'),
    seconds: num(received, 'seconds', 'end.sum_received'),
    streams: num(test, 'num_streams', 'start.test_start'),
    senderCpuPct: num(cpu, 'host_total', 'end.cpu_utilization_percent'),
    receiverCpuPct: num(cpu, 'remote_total', 'end.cpu_utilization_percent'),
    ...startedAt(start),
  };
}

function startedAt(start: Json): { startedAtSec?: number } {
  const t = start.timestamp;
  if (typeof t !== 'object' || t === null) return {};
  const s = (t as Json).timesecs;
  return typeof s === 'number' && Number.isFinite(s) ? { startedAtSec: s } : {};
}

/**
 * Parses the JSON of an `iperf3 -c ... -u -J` run. iperf 3.12 reports, in
 * `end.sum_received`, `packets` = datagrams the receiver expected (by
 * sequence number) and `lost_packets`; the difference is what arrived, and
 * must agree with `bytes / blksize` (checked, so a format change cannot
 * slip through as a wrong figure).
 */
export function parseIperfUdp(text: string): UdpRun {
  const r = parseRoot(text);
  const start = obj(r.start, 'start');
  const test = obj(start.test_start, 'start.test_start');
  if (test.protocol !== 'UDP')
    throw new IperfError(`iperf3 JSON: protocol ${String(test.protocol)}, wanted UDP`);
  const payloadBytes = num(test, 'blksize', 'start.test_start');
  const end = obj(r.end, 'end');
  const sent = obj(end.sum_sent, 'end.sum_sent');
  const received = obj(end.sum_received, 'end.sum_received');
  const expected = num(received, 'packets', 'end.sum_received');
  const lost = num(received, 'lost_packets', 'end.sum_received');
  const bytes = num(received, 'bytes', 'end.sum_received');
  const seconds = num(received, 'seconds', 'end.sum_received');
  const receivedPackets = expected - lost;
  if (payloadBytes <= 0 || Math.abs(receivedPackets - bytes / payloadBytes) > 1) {
    throw new IperfError(
      `iperf3 JSON: received ${receivedPackets} packets but ${bytes} bytes of ${payloadBytes}-byte datagrams`,
    );
  }
  const sentPackets = num(sent, 'packets', 'end.sum_sent');
  if (receivedPackets > sentPackets) {
    throw new IperfError(`iperf3 JSON: received ${receivedPackets} datagrams of ${sentPackets} sent`);
  }
  return {
    payloadBytes,
    sentPackets,
    receivedPackets,
    receivedPps: seconds > 0 ? receivedPackets / seconds : 0,
    lossPct: sentPackets > 0 ? ((sentPackets - receivedPackets) / sentPackets) * 100 : 0,
    receivedMbps: num(received, 'bits_per_second', 'end.sum_received') / 1e6,
    seconds,
  };
}

/** iputils ping's summary. */
export interface PingRun {
  readonly transmitted: number;
  readonly received: number;
  readonly minMs: number;
  readonly avgMs: number;
  readonly maxMs: number;
  readonly mdevMs: number;
}

/**
 * Parses `N packets transmitted, M received, ...` and
 * `rtt min/avg/max/mdev = a/b/c/d ms` from iputils ping. Throws when no
 * reply came back (there is no RTT line then).
 */
export function parsePing(text: string): PingRun {
  const counts = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(text);
  if (!counts) throw new Error(`ping: no summary in output: ${text.trim().slice(-200)}`);
  const rtt =
    /(?:rtt|round-trip) min\/avg\/max\/(?:mdev|stddev) = ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(
      text,
    );
  if (!rtt) throw new Error(`ping: no reply (${counts[0]})`);
  return {
    transmitted: Number(counts[1]),
    received: Number(counts[2]),
    minMs: Number(rtt[1]),
    avgMs: Number(rtt[2]),
    maxMs: Number(rtt[3]),
    mdevMs: Number(rtt[4]),
  };
}

/** Interface counters from `ip -s -j link show dev X`. */
export interface LinkCounters {
  readonly rxBytes: number;
  readonly rxPackets: number;
  readonly txBytes: number;
  readonly txPackets: number;
}

/** Parses the `stats64` of the (single) interface in `ip -s -j link show dev X` output. */
export function parseLinkCounters(text: string): LinkCounters {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`ip -j: not JSON: ${text.slice(0, 100)}`);
  }
  const link = Array.isArray(v) && v.length === 1 ? (v[0] as Json) : undefined;
  const s = link?.stats64 as { rx?: Json; tx?: Json } | undefined;
  if (!s?.rx || !s.tx) throw new Error('ip -j: no stats64 for exactly one interface');
  const n = (o: Json, k: string) => {
    const x = o[k];
    if (typeof x !== 'number') throw new Error(`ip -j: stats64 has no ${k}`);
    return x;
  };
  return {
    rxBytes: n(s.rx, 'bytes'),
    rxPackets: n(s.rx, 'packets'),
    txBytes: n(s.tx, 'bytes'),
    txPackets: n(s.tx, 'packets'),
  };
}

/** Parses a bandwidth as iperf3's `-b` takes it (`0`, `500M`, `2G`, `100k`) into bit/s. */
export function parseRate(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmMgG]?)$/.exec(s.trim());
  if (!m) throw new Error(`not a rate (e.g. 0, 800M, 2G): ${s}`);
  const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * mult;
}
