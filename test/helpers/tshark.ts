/**
 * tshark as an independent oracle: runs `tshark -r FILE -T json` (bounded
 * in time and output) and returns the packets with a flat field index, so a
 * test can ask "what does Wireshark say `gre.key.call_id` is in frame 9?".
 *
 * tshark comes from Debian's `tshark` package (`.ci/run` installs it; see
 * docs/decode.md). Its JSON repeats keys when a field occurs twice (two
 * `ip.addr`, an inner and an outer `ip` layer); `--no-duplicate-keys` turns
 * those into arrays, and {@link TsharkPacket.all} walks them in order, so
 * an outer header's value comes before the tunnelled one's.
 */
import { spawnSync } from 'node:child_process';

/** One packet as tshark decoded it. */
export interface TsharkPacket {
  /** The `_source.layers` object. */
  readonly layers: Record<string, unknown>;
  /** Every value of a field, in document order (outer layers first). */
  all(field: string): string[];
  /** The first value of a field, or undefined. */
  first(field: string): string | undefined;
  /** `frame.protocols` split: `['eth', 'ethertype', 'ip', 'gre', 'ppp', 'lcp']`. */
  readonly protocols: string[];
}

/** Whether `tshark` runs on this machine. */
export function hasTshark(): boolean {
  const r = spawnSync('tshark', ['--version'], { encoding: 'utf8', timeout: 20_000 });
  return r.status === 0;
}

/** The path of a Wireshark command-line tool (`text2pcap`, `editcap`, `mergecap`), checked to run. */
export function wiresharkTool(name: string): string {
  const r = spawnSync(name, ['--help'], { encoding: 'utf8', timeout: 20_000 });
  if (r.error || (r.status !== 0 && r.status !== 1))
    throw new Error(`${name} is not installed (apt-get install tshark)`);
  return name;
}

/** Runs a Wireshark tool with bounded time; throws with its stderr when it fails. */
export function runTool(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20, input });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function collect(node: unknown, into: Map<string, string[]>): void {
  if (Array.isArray(node)) {
    for (const x of node) collect(x, into);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    // `-x` adds `<field>_raw: [hex, offset, length, bitmask, type]` (an array of those when repeated).
    if (k.endsWith('_raw') && Array.isArray(v)) {
      for (const r of typeof v[0] === 'string' ? [v] : v)
        if (Array.isArray(r) && typeof r[0] === 'string') push(into, k, r[0]);
      continue;
    }
    if (typeof v === 'string') push(into, k, v);
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string'))
      for (const x of v) push(into, k, x as string);
    else collect(v, into);
  }
}

function push(into: Map<string, string[]>, k: string, v: string): void {
  const list = into.get(k);
  if (list) list.push(v);
  else into.set(k, [v]);
}

/**
 * Decodes `file` with tshark and returns its packets. Checksum validation
 * is switched on for IP, TCP and UDP (it is off by default), name
 * resolution off; `extraArgs` go before `-r`.
 */
export function tsharkPackets(file: string, extraArgs: string[] = []): TsharkPacket[] {
  const args = [
    '-n',
    '-o',
    'ip.check_checksum:TRUE',
    '-o',
    'tcp.check_checksum:TRUE',
    '-o',
    'udp.check_checksum:TRUE',
    ...extraArgs,
    '-r',
    file,
    '-T',
    'json',
    '--no-duplicate-keys',
  ];
  const out = runTool('tshark', args);
  const parsed = JSON.parse(out) as { _source: { layers: Record<string, unknown> } }[];
  return parsed.map((p) => {
    const layers = p._source.layers;
    const index = new Map<string, string[]>();
    collect(layers, index);
    return {
      layers,
      all: (f: string) => index.get(f) ?? [],
      first: (f: string) => index.get(f)?.[0],
      protocols: (index.get('frame.protocols')?.[0] ?? '').split(':'),
    };
  });
}

/** Parses a tshark number: decimal, or hex with `0x`. */
export function tsharkNumber(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  return s.startsWith('0x') ? Number.parseInt(s.slice(2), 16) : Number(s);
}

/** tshark's colon-separated hex bytes (`02:11:22`) as plain lower-case hex. */
export function tsharkBytes(s: string | undefined): string | undefined {
  return s?.replaceAll(':', '').toLowerCase();
}
