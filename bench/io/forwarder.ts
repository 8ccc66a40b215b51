/**
 * One end of a minimal TUN ↔ raw-GRE forwarder: the data path of pptp-ts
 * without PPP negotiation, MPPE or the GRE sequencer, to measure what the
 * I/O layer's levers buy (docs/performance.md). Run one per namespace:
 *
 *   ip netns exec NS node --import tsx bench/io/forwarder.ts \
 *     --tun-address 10.0.0.1 --tun-peer 10.0.0.2 --local 192.168.0.1 --peer 192.168.0.2 \
 *     [--mtu 1440] [--offload none|gso|gro|gro-noverify] [--batch on|off] [--workers] [--rps HEXMASK]
 *
 * Packets read from the TUN are wrapped in what a PPTP call puts on the
 * wire (RFC 2637 §4.1): an IPv4 header, a 16-byte enhanced GRE header with
 * sequence and acknowledgment numbers, and a 4-byte PPP header (FF 03 and
 * the protocol, RFC 1661 §2), built straight into the raw socket's transmit
 * ring; received GRE packets are checked, stripped, and written to the TUN.
 * It prints `ready` once the TUN is up, and its counters as one JSON line
 * on SIGTERM/SIGINT, then exits.
 *
 * `--workers` runs each direction in its own worker thread (TUN→GRE and
 * GRE→TUN), each with its own Port on a dup() of the shared fds.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { addPointToPointAddress, setLinkUp, setMtu } from '../../src/io/ip.js';
import { loadAddon } from '../../src/io/native.js';
import { RawGreSocket } from '../../src/io/raw-gre.js';
import { Tun, type TunOffloadOptions } from '../../src/io/tun.js';
import { flagValue, parseBenchArgs, wholeNumber } from '../args.js';

export type OffloadVariant = 'none' | 'gso' | 'gro' | 'gro-noverify';

export interface ForwarderOptions {
  tunName: string;
  tunAddress: string;
  tunPeer: string;
  mtu: number;
  /** This end's underlay IPv4 address (the GRE source). */
  local: string;
  /** The other end's underlay IPv4 address. */
  peer: string;
  offload: OffloadVariant;
  /** Rings of 32/64 slots and a flush per wake-up (on), or one packet per read and per send (off). */
  batch: boolean;
  workers: boolean;
  /**
   * Receive Packet Steering for the TUN: a hex CPU mask written to
   * /sys/class/net/TUN/queues/rx-0/rps_cpus, so that the host stack's work
   * for packets we write (TCP receive, ACKs, the sender's next segments)
   * may run on another CPU than this thread. Needs the namespace's sysfs
   * (`ip netns exec` mounts it).
   */
  rps?: string;
}

/** Overhead in front of every inner packet: IPv4 20 + enhanced GRE 16 + PPP 4. */
export const ENCAP_OVERHEAD = 40;
const CALL_ID = 0x0101;

const OFFLOADS: Record<OffloadVariant, false | TunOffloadOptions> = {
  none: false,
  gso: { coalesce: false },
  gro: { coalesce: true, verifyChecksums: true },
  'gro-noverify': { coalesce: true, verifyChecksums: false },
};

function ipv4(a: string): number {
  const p = a.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !(x >= 0 && x <= 255))) throw new Error(`bad IPv4 address ${a}`);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

/** The 40 header bytes common to every packet this end sends (lengths, seq and ack patched per packet). */
function headerTemplate(local: string, peer: string): Uint8Array {
  const h = new Uint8Array(ENCAP_OVERHEAD);
  const v = new DataView(h.buffer);
  h[0] = 0x45;
  v.setUint16(6, 0x4000); // DF, as pptp_xmit sets it from PMTU
  h[8] = 64;
  h[9] = 47;
  // Total length, identification and header checksum: the kernel fills them (raw(7), IP_HDRINCL).
  v.setUint32(12, ipv4(local));
  v.setUint32(16, ipv4(peer));
  h[20] = 0x30; // K, S
  h[21] = 0x81; // A, version 1
  v.setUint16(22, 0x880b);
  v.setUint16(26, CALL_ID);
  h[36] = 0xff; // PPP address
  h[37] = 0x03; // PPP control
  return h;
}

/** Counters one direction reports. */
interface DirectionStats {
  packets: number;
  bytes: number;
  dropped: number;
}

/** TUN → GRE: encapsulate into the raw socket's ring; flush per wake-up. */
function tunToGre(tun: Tun, gre: RawGreSocket, o: ForwarderOptions, st: DirectionStats): void {
  const tpl = headerTemplate(o.local, o.peer);
  let seq = 0;
  tun.start({
    onPacket(p) {
      const off = gre.reserve(ENCAP_OVERHEAD + p.length);
      if (off < 0) {
        st.dropped++;
        return;
      }
      const b = gre.txRing;
      b.set(tpl, off);
      const plen = p.length + 4;
      b[off + 24] = plen >>> 8;
      b[off + 25] = plen & 0xff;
      seq = (seq + 1) >>> 0;
      b[off + 28] = seq >>> 24;
      b[off + 29] = (seq >>> 16) & 0xff;
      b[off + 30] = (seq >>> 8) & 0xff;
      b[off + 31] = seq & 0xff;
      // Acknowledgment number (bytes 32..35): the template's 0, as an idle receive side would send.
      b[off + 39] = p[0]! >> 4 === 6 ? 0x57 : 0x21; // PPP protocol: IPv6 0x0057, IPv4 0x0021
      b.set(p, off + ENCAP_OVERHEAD);
      st.packets++;
      st.bytes += p.length;
      if (!o.batch) gre.flush();
    },
    onBatchEnd: () => gre.flush(),
  });
}

/** GRE → TUN: check the outer headers, strip them, write the inner packet; flush per wake-up. */
function greToTun(gre: RawGreSocket, tun: Tun, o: ForwarderOptions, st: DirectionStats): void {
  const peer = ipv4(o.peer);
  gre.start({
    onPacket(p) {
      const n = p.length;
      if (n < 20) return;
      const ihl = (p[0]! & 0x0f) * 4;
      if (p[0]! >> 4 !== 4 || ihl < 20 || n < ihl + 8) return;
      if (((p[12]! << 24) | (p[13]! << 16) | (p[14]! << 8) | p[15]!) >>> 0 !== peer) return;
      const g = ihl;
      // RFC 2637 §4.1: K set, C R s clear, version 1, protocol 0x880B.
      if ((p[g]! & 0xef) !== 0x20 || (p[g + 1]! & 0x7f) !== 0x01) return;
      if (p[g + 2] !== 0x88 || p[g + 3] !== 0x0b) return;
      const plen = (p[g + 4]! << 8) | p[g + 5]!;
      const ppp = g + 8 + (p[g]! & 0x10 ? 4 : 0) + (p[g + 1]! & 0x80 ? 4 : 0);
      if (plen < 4 || ppp + plen > n || p[ppp] !== 0xff || p[ppp + 1] !== 0x03) return;
      const inner = p.subarray(ppp + 4, ppp + plen);
      if (tun.write(inner)) {
        st.packets++;
        st.bytes += inner.length;
      } else st.dropped++;
      if (!o.batch) tun.flush();
    },
    onBatchEnd: () => tun.flush(),
  });
}

async function configureTun(o: ForwarderOptions): Promise<Tun> {
  const ring = o.batch ? {} : { rxSlots: 1, txSlots: 1 };
  const tun = Tun.open({ name: o.tunName, offload: OFFLOADS[o.offload], ...ring });
  await setMtu(tun.name, o.mtu);
  await addPointToPointAddress(tun.name, o.tunAddress, o.tunPeer);
  await setLinkUp(tun.name);
  if (o.rps) writeFileSync(`/sys/class/net/${tun.name}/queues/rx-0/rps_cpus`, `${o.rps}\n`);
  return tun;
}

function openGre(o: ForwarderOptions): RawGreSocket {
  const ring = o.batch ? {} : { rxSlots: 1, txSlots: 1 };
  return RawGreSocket.open({ bindAddress: o.local, rcvbufBytes: 4 << 20, sndbufBytes: 4 << 20, ...ring });
}

/** Runs one end in this thread until SIGTERM/SIGINT; prints `ready`, then the counters. */
export async function runForwarder(o: ForwarderOptions): Promise<void> {
  if (o.workers) return runWithWorkers(o);
  const tun = await configureTun(o);
  const gre = openGre(o);
  const tx: DirectionStats = { packets: 0, bytes: 0, dropped: 0 };
  const rx: DirectionStats = { packets: 0, bytes: 0, dropped: 0 };
  tunToGre(tun, gre, o, tx);
  greToTun(gre, tun, o, rx);
  console.log(`ready ${tun.name}`);
  const stop = () => {
    console.log(
      JSON.stringify({
        tx,
        rx,
        tun: tun.stats,
        offload: tun.offloadStats,
        gre: gre.stats,
        rssBytes: process.memoryUsage.rss(),
      }),
    );
    tun.close();
    gre.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/**
 * Two worker threads, one per direction. The main thread opens and
 * configures the TUN and the socket, then hands each worker dup()s of both
 * fds: TUN→GRE reads the TUN and sends on the socket, GRE→TUN reads the
 * socket and writes the TUN. (The addon is a Node-API module, so each
 * worker loads its own instance.)
 */
async function runWithWorkers(o: ForwarderOptions): Promise<void> {
  const tun = await configureTun({ ...o, workers: false });
  const gre = openGre(o);
  const addon = loadAddon();
  const spawn = (dir: 'tx' | 'rx') =>
    // Workers do not inherit the tsx loader: register it, then load this file.
    new Worker(
      `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})` +
        `.then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`,
      {
        eval: true,
        workerData: { dir, o, tunFd: addon.dupFd(tun.fd), greFd: addon.dupFd(gre.fd), tunName: tun.name },
      },
    );
  const workers = [spawn('tx'), spawn('rx')];
  const reports: unknown[] = [];
  await Promise.all(
    workers.map((w) => new Promise<void>((resolve) => w.once('message', (m) => m === 'ready' && resolve()))),
  );
  console.log(`ready ${tun.name} (workers)`);
  const stop = async () => {
    for (const w of workers) w.postMessage('stop');
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) =>
            w.once('message', (m) => {
              reports.push(m);
              resolve();
            }),
          ),
      ),
    );
    console.log(JSON.stringify({ workers: reports, rssBytes: process.memoryUsage.rss() }));
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

/** A worker: one direction over dup()ed fds. */
function workerMain(): void {
  const { dir, o, tunFd, greFd } = workerData as {
    dir: 'tx' | 'rx';
    o: ForwarderOptions;
    tunFd: number;
    greFd: number;
    tunName: string;
  };
  const tun = Tun.adopt(tunFd, {
    name: (workerData as { tunName: string }).tunName,
    offload: OFFLOADS[o.offload],
  });
  const gre = RawGreSocket.adopt(greFd, o.batch ? {} : { rxSlots: 1, txSlots: 1 });
  const st: DirectionStats = { packets: 0, bytes: 0, dropped: 0 };
  if (dir === 'tx') tunToGre(tun, gre, o, st);
  else greToTun(gre, tun, o, st);
  parentPort!.on('message', (m) => {
    if (m !== 'stop') return;
    parentPort!.postMessage({ dir, st, tun: tun.stats, offload: tun.offloadStats, gre: gre.stats });
    tun.close();
    gre.close();
    parentPort!.close();
  });
  parentPort!.postMessage('ready');
}

function parseArgs(argv: string[]): ForwarderOptions {
  const o: ForwarderOptions = {
    tunName: 'fwd%d',
    tunAddress: '',
    tunPeer: '',
    mtu: 1440,
    local: '',
    peer: '',
    offload: 'none',
    batch: true,
    workers: false,
  };
  const { flags } = parseBenchArgs(argv, {
    'tun-name': 'string',
    'tun-address': 'string',
    'tun-peer': 'string',
    mtu: 'string',
    local: 'string',
    peer: 'string',
    offload: 'string',
    batch: 'string',
    workers: 'boolean',
    rps: 'string',
  });
  for (const f of flags) {
    const v = () => flagValue(f);
    if (f.name === '--tun-name') o.tunName = v();
    else if (f.name === '--tun-address') o.tunAddress = v();
    else if (f.name === '--tun-peer') o.tunPeer = v();
    else if (f.name === '--mtu') o.mtu = wholeNumber(f);
    else if (f.name === '--local') o.local = v();
    else if (f.name === '--peer') o.peer = v();
    else if (f.name === '--offload') {
      const x = v();
      if (!(x in OFFLOADS)) throw new Error(`--offload ${x}: one of ${Object.keys(OFFLOADS).join(', ')}`);
      o.offload = x as OffloadVariant;
    } else if (f.name === '--batch') o.batch = v() !== 'off';
    else if (f.name === '--workers') o.workers = true;
    else if (f.name === '--rps') o.rps = v();
  }
  for (const k of ['tunAddress', 'tunPeer', 'local', 'peer'] as const)
    if (!o[k]) throw new Error(`--${k} missing`);
  return o;
}

if (!isMainThread && (workerData as { dir?: string })?.dir) {
  workerMain();
} else if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  runForwarder(parseArgs(process.argv.slice(2))).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
