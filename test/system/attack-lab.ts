/**
 * Helpers for the attack system tests: a third namespace, the attacker,
 * joined to the server's by its own veth pair (so what it sends reaches the
 * server over another link than the client's, as from elsewhere on the
 * internet), with reverse-path filtering off in the server's namespace so
 * that packets forging the client's address are accepted there; forged GRE
 * packets sent from a raw socket (the project's own, IP_HDRINCL) opened in
 * that namespace; and a ping through the tunnel whose loss and RTT the
 * tests assert.
 */
import { RawGreSocket } from '../../src/io/raw-gre.js';
import { parseIpv4 } from '../../src/wire/bytes.js';
import type { NetnsLab } from '../helpers/netns.js';
import { CLIENT_IP, SERVER_IP, twoHosts } from './tunnel-lab.js';

export const ATTACKER_LINK_SERVER = '203.0.113.1';
export const ATTACKER_IP = '203.0.113.66';

export interface AttackHosts {
  server: string;
  client: string;
  attacker: string;
}

/** Server, client (as {@link twoHosts}) and attacker namespaces. */
export async function threeHosts(lab: NetnsLab): Promise<AttackHosts> {
  const { server, client } = await twoHosts(lab);
  const attacker = await lab.addNamespace('atk');
  await lab.addVeth(server, 'vsatk', attacker, 'vatk');
  await lab.exec(server, ['ip', 'addr', 'add', `${ATTACKER_LINK_SERVER}/24`, 'dev', 'vsatk']);
  await lab.exec(attacker, ['ip', 'addr', 'add', `${ATTACKER_IP}/24`, 'dev', 'vatk']);
  await lab.exec(attacker, ['ip', 'route', 'add', '198.51.100.0/24', 'via', ATTACKER_LINK_SERVER]);
  // The strictest attacker: its forged source (the client's address) must not be filtered on the way in.
  for (const conf of ['all', 'default', 'vsatk'])
    await lab.exec(server, ['sh', '-c', `echo 0 > /proc/sys/net/ipv4/conf/${conf}/rp_filter`]);
  return { server, client, attacker };
}

export interface ForgedGre {
  /** Outer source (default: the client's address). */
  source?: string;
  /** Outer destination (default: the server's address). */
  destination?: string;
  callId: number;
  seq?: number;
  ack?: number;
  /** PPP bytes (default: a 0x00FD frame of 40 random-looking bytes). */
  ppp?: Uint8Array;
}

const DEFAULT_PPP = Uint8Array.from([0xff, 0x03, 0x00, 0xfd, 0x90, 0x05, ...new Array(36).fill(0x5a)]);

/** An IPv4 + enhanced GRE packet (RFC 2637 §4.1); the kernel fills in the IPv4 checksum and total length (raw(7)). */
export function forgedGre(f: ForgedGre): Uint8Array {
  const ppp = f.ppp ?? DEFAULT_PPP;
  const greLen = 8 + (f.seq !== undefined ? 4 : 0) + (f.ack !== undefined ? 4 : 0);
  const p = new Uint8Array(20 + greLen + ppp.length);
  const v = new DataView(p.buffer);
  p[0] = 0x45;
  v.setUint16(6, 0x4000);
  p[8] = 64;
  p[9] = 47;
  v.setUint32(12, parseIpv4(f.source ?? CLIENT_IP)!);
  v.setUint32(16, parseIpv4(f.destination ?? SERVER_IP)!);
  p[20] = 0x20 | (f.seq !== undefined ? 0x10 : 0); // K (+ S)
  p[21] = 0x01 | (f.ack !== undefined ? 0x80 : 0); // version 1 (+ A)
  v.setUint16(22, 0x880b);
  v.setUint16(24, ppp.length);
  v.setUint16(26, f.callId);
  let o = 28;
  if (f.seq !== undefined) {
    v.setUint32(o, f.seq >>> 0);
    o += 4;
  }
  if (f.ack !== undefined) {
    v.setUint32(o, f.ack >>> 0);
    o += 4;
  }
  p.set(ppp, o);
  return p;
}

/** A raw GRE socket in the attacker's namespace. */
export class Attacker {
  private readonly sock: RawGreSocket;

  constructor(ns: string) {
    this.sock = RawGreSocket.open({ netns: ns, sndbufBytes: 4 << 20 });
    this.sock.start({ onPacket() {} });
  }

  /**
   * Sends `count` packets made by `make(i)` as fast as the socket takes them
   * (waiting for the ring only when it is full); returns how many went out
   * and the rate.
   */
  async send(count: number, make: (i: number) => Uint8Array): Promise<{ sent: number; pps: number }> {
    const t0 = process.hrtime.bigint();
    let sent = 0;
    for (let i = 0; i < count; i++) {
      const p = make(i);
      let tries = 0;
      while (!this.sock.send(p)) {
        if (++tries > 10_000) throw new Error('the attacker socket stopped taking packets');
        await new Promise((r) => setImmediate(r));
      }
      sent++;
      if ((i & 63) === 63) this.sock.flush();
    }
    this.sock.flush();
    await new Promise((r) => setImmediate(r));
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    return { sent, pps: Math.round(sent / Math.max(s, 1e-6)) };
  }

  close(): void {
    this.sock.close();
  }
}

export interface PingResult {
  transmitted: number;
  received: number;
  lossPct: number;
  avgMs: number;
  maxMs: number;
}

/** Runs `ping` in `ns` and parses its summary. */
export async function ping(
  lab: NetnsLab,
  ns: string,
  target: string,
  count: number,
  intervalS = 0.1,
): Promise<PingResult> {
  const r = await lab.exec(
    ns,
    ['ping', '-n', '-q', '-c', String(count), '-i', String(intervalS), '-W', '2', target],
    {
      allowFail: true,
      timeoutMs: Math.ceil(count * intervalS * 1000) + 20_000,
    },
  );
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(r.stdout);
  if (!m) throw new Error(`no ping summary:\n${r.stdout}\n${r.stderr}`);
  const rtt = /= [\d.]+\/([\d.]+)\/([\d.]+)\//.exec(r.stdout);
  const transmitted = Number(m[1]);
  const received = Number(m[2]);
  return {
    transmitted,
    received,
    lossPct: transmitted ? (100 * (transmitted - received)) / transmitted : 100,
    avgMs: rtt ? Number(rtt[1]) : Number.NaN,
    maxMs: rtt ? Number(rtt[2]) : Number.NaN,
  };
}

/** The session line of `call=` `callId` from the server's status, as a map of its fields. */
export function sessionFields(status: readonly string[]): Record<string, string>[] {
  return status
    .filter((l) => l.startsWith('session '))
    .map((l) => Object.fromEntries([...l.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!])));
}
