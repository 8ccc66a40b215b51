/**
 * Helpers shared by the interop cases (connect.test.ts, serve.test.ts):
 * the namespace-side tools (test/interop/net-tool.ts), waiting for a spawned
 * pptp-ts, and reading a capture back with `pptp-ts decode --json`.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecResult, Spawned } from '../helpers/netns.js';
import type { Lab } from './lab.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NET_TOOL = join(ROOT, 'test/interop/net-tool.ts');

/** argv for net-tool.ts under this Node. */
export function netToolArgv(args: readonly string[]): string[] {
  return [process.execPath, '--import', 'tsx', NET_TOOL, ...args];
}

/** Runs net-tool.ts in the lab namespace; returns its one result line (rejects on failure). */
export async function netTool(lab: Lab, args: readonly string[], timeoutMs = 150_000): Promise<string> {
  const r = await lab.exec(netToolArgv(args), { timeoutMs, allowFail: true });
  if (r.code !== 0)
    throw new Error(`net-tool ${args.join(' ')} failed (${r.code ?? r.signal}): ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** Resolves with the process's result when it exits, or rejects after `timeoutMs` (it keeps running). */
export function exitWithin(p: Spawned, timeoutMs: number, what: string): Promise<ExecResult> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${what} still running after ${timeoutMs} ms\n${p.stderr().slice(-3000)}`)),
      timeoutMs,
    );
    void p.exited.then((r) => {
      clearTimeout(timer);
      resolvePromise(r);
    });
  });
}

/** `key=value` and `key="quoted value"` fields of the last log line matching `re`. */
export function logFields(log: string, re: RegExp): Record<string, string> | undefined {
  const line = log
    .split('\n')
    .filter((l) => re.test(l))
    .pop();
  if (!line) return undefined;
  const fields: Record<string, string> = {};
  for (const m of line.matchAll(/([\w.-]+)=(?:"((?:[^"\\]|\\.)*)"|(\S+))/g)) fields[m[1]!] = m[2] ?? m[3]!;
  return fields;
}

/** One PPTP control message as `pptp-ts decode --json` reports it. */
export interface DecodedControl {
  frame: number;
  source: string;
  name: string;
}

/** A capture read back by `pptp-ts decode --json`: the control messages, and the PPP layers in order of first appearance. */
export async function decodeCapture(
  lab: Lab,
  pcap: string,
): Promise<{ control: DecodedControl[]; layers: string[]; packets: number }> {
  const r = await lab.exec([process.execPath, join(ROOT, 'bin/pptp-ts.js'), 'decode', '--json', pcap], {
    timeoutMs: 120_000,
  });
  const control: DecodedControl[] = [];
  const layers: string[] = [];
  let packets = 0;
  for (const line of r.stdout.split('\n')) {
    if (!line.trim()) continue;
    const p = JSON.parse(line) as {
      frame: number;
      layers: { layer: string; name?: string; source?: string }[];
    };
    packets++;
    const ip = p.layers.find((l) => l.layer === 'IPv4');
    for (const l of p.layers) {
      if (l.layer === 'PPTP' && l.name)
        control.push({ frame: p.frame, source: ip?.source ?? '?', name: l.name });
      if (!layers.includes(l.layer)) layers.push(l.layer);
    }
  }
  return { control, layers, packets };
}

/** Control message names, without the keep-alive echoes (their timing is not part of a handshake). */
export function handshake(control: readonly DecodedControl[]): string[] {
  return control.map((c) => c.name).filter((n) => n !== 'ECHORQ' && n !== 'ECHORP');
}

/** The first control messages of every case: the control connection and the call (RFC 2637 §2.1-2.2, §2.7-2.8). */
export const CALL_SETUP = ['SCCRQ', 'SCCRP', 'OCRQ', 'OCRP'];

/**
 * Reads a case's capture with `pptp-ts decode` and checks the handshake:
 * the call set up in order ({@link CALL_SETUP}), then LCP in the GRE stream.
 * Returns what it decoded, for more checks.
 */
export async function assertCallSetUp(
  lab: Lab,
  pcap: string,
): Promise<{ control: DecodedControl[]; layers: string[]; packets: number }> {
  const decoded = await decodeCapture(lab, pcap);
  const names = handshake(decoded.control);
  if (names.slice(0, CALL_SETUP.length).join(' ') !== CALL_SETUP.join(' ')) {
    // tcpdump's own dissector, as a second opinion on what was on the wire.
    const dump = await lab.exec(['tcpdump', '-nn', '-r', pcap, 'tcp port 1723'], { allowFail: true });
    const counts = existsSync(`${pcap}.tcpdump.txt`) ? readFileSync(`${pcap}.tcpdump.txt`, 'utf8') : '';
    throw new Error(
      `decoded control messages ${names.join(' ')}, expected ${CALL_SETUP.join(' ')} first\n` +
        `--- tcpdump -r ${pcap} ---\n${dump.stdout.slice(0, 6000)}\n--- the capturing tcpdump ---\n${counts}`,
    );
  }
  if (!decoded.layers.includes('LCP')) throw new Error(`no LCP decoded: ${decoded.layers.join(' ')}`);
  return decoded;
}

/**
 * The PPP layers of a successful MS-CHAPv2 + MPPE session came in their
 * phase order (RFC 1661 §3: LCP, then authentication, then CCP and IPCP),
 * and data then went encrypted.
 */
export function assertNegotiatedInOrder(layers: readonly string[]): void {
  const order = ['LCP', 'CHAP', 'CCP', 'IPCP'].map((l) => layers.indexOf(l));
  assert.ok(
    order.every((i) => i >= 0) && order.every((v, i) => i === 0 || v > order[i - 1]!),
    layers.join(' '),
  );
  assert.ok(layers.includes('MPPE'), layers.join(' '));
}

/** How one sender's MPPE packets look in a capture (RFC 3078 §3). */
export interface MppeFlow {
  /** MPPE packets from this source. */
  packets: number;
  /** With the FLUSHED bit (A): every packet in stateless mode (RFC 3078 §3: "If the stateless option has been negotiated, this bit MUST be set on every encrypted packet"). */
  flushed: number;
  /** Pairs of successive packets whose coherency counts differ by exactly 1 (mod 4096), out of `pairs`. */
  consecutive: number;
  pairs: number;
  /** Decrypted by `pptp-ts decode --password-file` (its own decryptor, src/decode/mppe-decrypt.ts). */
  decrypted: number;
}

/**
 * Reads the MPPE packets of a capture with `pptp-ts decode --json`, given
 * the MS-CHAP password so that it decrypts them too, and sums them up per
 * source address.
 */
export async function mppeFlows(
  lab: Lab,
  pcap: string,
  passwordFile: string,
): Promise<Map<string, MppeFlow>> {
  const r = await lab.exec(
    [
      process.execPath,
      join(ROOT, 'bin/pptp-ts.js'),
      'decode',
      '--json',
      '--password-file',
      passwordFile,
      pcap,
    ],
    { timeoutMs: 180_000 },
  );
  const flows = new Map<string, MppeFlow & { last?: number }>();
  for (const line of r.stdout.split('\n')) {
    if (!line.trim()) continue;
    const p = JSON.parse(line) as {
      layers: { layer: string; source?: string; coherencyCount?: number; flushed?: boolean; note?: string }[];
    };
    const source = p.layers.find((l) => l.layer === 'IPv4')?.source;
    // The first MPPE layer: the encrypted packet itself (a decrypted one may carry more layers after it).
    const m = p.layers.find((l) => l.layer === 'MPPE' && typeof l.coherencyCount === 'number');
    if (!source || !m) continue;
    let f = flows.get(source);
    if (!f) {
      f = { packets: 0, flushed: 0, consecutive: 0, pairs: 0, decrypted: 0 };
      flows.set(source, f);
    }
    const cc = m.coherencyCount!;
    f.packets++;
    if (m.flushed) f.flushed++;
    if (m.note?.startsWith('decrypted ')) f.decrypted++;
    if (f.last !== undefined) {
      f.pairs++;
      if ((cc - f.last + 4096) % 4096 === 1) f.consecutive++;
    }
    f.last = cc;
  }
  for (const f of flows.values()) delete f.last;
  return flows;
}

/**
 * Asserts that a sender used stateful MPPE (RFC 3078 §7.2, §3): most
 * packets without the FLUSHED bit, coherency counts consecutive, and the
 * whole flow decryptable by `pptp-ts decode` (which keeps stateful RC4
 * state across packets, so a wrong mode cannot decrypt). Returns a
 * one-line summary for the test's messages.
 */
export function assertStatefulFlow(flows: Map<string, MppeFlow>, source: string, minPackets: number): string {
  const f = flows.get(source);
  const all = JSON.stringify(Object.fromEntries(flows));
  if (!f) throw new Error(`no MPPE packets from ${source}: ${all}`);
  const summary = `${source}: ${f.packets} MPPE packets, ${f.flushed} flushed, ${f.consecutive}/${f.pairs} consecutive, ${f.decrypted} decrypted`;
  if (f.packets < minPackets) throw new Error(`too few MPPE packets (${summary})`);
  // Stateful senders flush only on the first packet, every 256th ("flag" packets, §7.2) and after a Reset-Request.
  if (f.flushed > f.packets / 50 + 2)
    throw new Error(`flushed on too many packets for stateful MPPE (${summary})`);
  // Nothing is lost on the lab's link: every count follows the one before.
  if (f.consecutive !== f.pairs) throw new Error(`coherency counts not consecutive (${summary})`);
  if (f.decrypted !== f.packets) throw new Error(`not every packet decrypted (${summary})`);
  return summary;
}
