/**
 * Helpers shared by the interop cases (connect.test.ts, serve.test.ts):
 * the namespace-side tools (test/interop/net-tool.ts), waiting for a spawned
 * pptp-ts, and reading a capture back with `pptp-ts decode --json`.
 */
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
    throw new Error(
      `decoded control messages ${names.join(' ')}, expected ${CALL_SETUP.join(' ')} first\n` +
        `--- tcpdump -r ${pcap} ---\n${dump.stdout.slice(0, 6000)}`,
    );
  }
  if (!decoded.layers.includes('LCP')) throw new Error(`no LCP decoded: ${decoded.layers.join(' ')}`);
  return decoded;
}
