/**
 * The demo's terminal output: section headings, step lines with a tick or
 * a cross, aligned key/value rows, and the story of the capture (handshake
 * timeline, tunnel parameters, data counts). Colour only on a terminal and
 * only without NO_COLOR (https://no-color.org); the text is the same
 * either way, so tests read it plainly.
 */
import type { ControlEvent, DataCounts, DemoStory, TunnelFacts } from './story.js';

/** Width headings are drawn to. */
const WIDTH = 78;
/** Handshake lines wrap their details before this column. */
const LINE_WIDTH = 110;

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  ok(s: string): string;
  bad(s: string): string;
}

const plain: Style = { bold: (s) => s, dim: (s) => s, ok: (s) => s, bad: (s) => s };

const ansi = (code: string) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;

/** ANSI styles for a terminal, none otherwise. */
export function styleFor(stream: NodeJS.WriteStream | NodeJS.WritableStream): Style {
  const tty = (stream as NodeJS.WriteStream).isTTY === true;
  if (!tty || process.env.NO_COLOR || process.env.TERM === 'dumb') return plain;
  return { bold: ansi('1'), dim: ansi('2'), ok: ansi('32'), bad: ansi('31') };
}

/** Writes the demo's lines to a stream. */
export class Printer {
  constructor(
    private readonly stream: NodeJS.WritableStream,
    readonly style: Style = plain,
  ) {}

  line(s = ''): void {
    this.stream.write(`${s}\n`);
  }

  /** `── Title ─────…` with a blank line before it. */
  heading(title: string): void {
    const rule = '─'.repeat(Math.max(3, WIDTH - title.length - 4));
    this.line();
    this.line(this.style.bold(`── ${title} ${rule}`));
  }

  /** `  ✓ text` (or ✗ when `ok` is false), `note` dimmed after it. */
  step(text: string, note = '', ok = true): void {
    const mark = ok ? this.style.ok('✓') : this.style.bad('✗');
    this.line(`  ${mark} ${text}${note ? `  ${this.style.dim(note)}` : ''}`);
  }

  /** Rows of `key  value`, keys padded to one column. */
  rows(rows: readonly (readonly [string, string])[], indent = 2): void {
    const w = Math.max(...rows.map(([k]) => k.length));
    for (const [k, v] of rows) this.line(`${' '.repeat(indent)}${k.padEnd(w)}  ${v}`.trimEnd());
  }

  /** Lines indented by `indent` spaces. */
  block(lines: readonly string[], indent = 2): void {
    for (const l of lines) this.line(`${' '.repeat(indent)}${l}`.trimEnd());
  }
}

/** `+1.234s`. */
function seconds(s: number): string {
  return `+${s.toFixed(3)}s`;
}

function direction(from: ControlEvent['from']): string {
  if (from === 'client') return 'client → server';
  if (from === 'server') return 'server → client';
  return '(other)        ';
}

/** Joins items with two spaces, wrapping at LINE_WIDTH into lines that start at `indent`. */
function wrap(first: string, items: readonly string[], indent: number): string[] {
  const out: string[] = [];
  let line = first;
  for (const it of items) {
    if (line.length + 2 + it.length > LINE_WIDTH && line.trim().length > 0 && line.length > indent) {
      out.push(line);
      line = ' '.repeat(indent) + it;
    } else line += (line.endsWith(' ') || line.length === 0 ? '' : '  ') + it;
  }
  out.push(line);
  return out;
}

/**
 * One line (or a few, wrapped) per control message: time (seconds since
 * `origin`), direction, protocol, message, details.
 */
export function timelineLines(events: readonly ControlEvent[], origin = 0): string[] {
  const out: string[] = [];
  const protoWidth = Math.max(4, ...events.map((e) => e.protocol.length));
  for (const e of events) {
    const head = `${seconds(e.seconds - origin).padStart(9)}  ${direction(e.from)}  ${e.protocol.padEnd(protoWidth)}  ${e.message}`;
    const indent = 9 + 2 + 15 + 2 + protoWidth + 2 + 2;
    out.push(...wrap(head, e.details, indent));
  }
  return out;
}

/** `3 packets`, `1 packet`. */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** `2 DNS, 6 ICMP` and the rest of the data counts, as one sentence. */
export function dataSentence(d: DataCounts): string {
  const kinds = [...d.kinds].map(([k, n]) => `${n} ${k}`).join(', ');
  const parts: string[] = [];
  if (d.encrypted > 0) {
    const dec = d.decrypted === d.encrypted ? 'all decrypted' : `${d.decrypted} decrypted`;
    parts.push(`${count(d.encrypted, 'MPPE-encrypted packet')} (${dec}${kinds ? `: ${kinds}` : ''})`);
  } else if (kinds) parts.push(`packets in the clear: ${kinds}`);
  if (d.ackOnly) parts.push(`${d.ackOnly} GRE ack-only`);
  if (d.keepAlives) parts.push(count(d.keepAlives, 'echo keep-alive'));
  return parts.length ? parts.join(', ') : 'no data packets';
}

/** The tunnel's parameters as rows. */
export function factRows(f: TunnelFacts, outer: { client: string; server: string }): [string, string][] {
  const rows: [string, string][] = [
    ['outer', `client ${outer.client} ↔ server ${outer.server}  (TCP 1723 for control, GRE for data)`],
  ];
  if (f.clientCallId !== undefined || f.serverCallId !== undefined) {
    rows.push([
      'PPTP call',
      `client call ID ${f.clientCallId ?? '?'}, server call ID ${f.serverCallId ?? '?'}  (the key of the GRE packets sent to each)`,
    ]);
  }
  if (f.clientMru !== undefined || f.serverMru !== undefined) {
    rows.push(['LCP', `MRU client ${f.clientMru ?? 'default'}, server ${f.serverMru ?? 'default'}`]);
  }
  if (f.auth) {
    const who = f.user ? `, user "${f.user}"` : '';
    rows.push(['auth', `${f.auth}${who}${f.authResult ? `: ${f.authResult}` : ''}`]);
  }
  if (f.mppe) rows.push(['MPPE', f.mppe]);
  if (f.clientAddress || f.serverAddress) {
    rows.push(['IPCP', `client ${f.clientAddress ?? '?'}, server ${f.serverAddress ?? '?'}`]);
  }
  if (f.dns.length) rows.push(['DNS', `${f.dns.join(', ')}  (pushed by IPCP, RFC 1877)`]);
  return rows;
}

/** Everything the capture says, printed: handshake, data, teardown; times from the first message. */
export function printTimeline(p: Printer, story: DemoStory, indent = 4): void {
  const origin = story.handshake[0]?.seconds ?? 0;
  p.block(timelineLines(story.handshake, origin), indent);
  const middle = story.middle.length ? ` and ${story.middle.length} control messages` : '';
  p.line(p.style.dim(`${' '.repeat(indent + 11)}… ${dataSentence(story.data)}${middle} …`));
  p.block(timelineLines(story.teardown, origin), indent);
}
