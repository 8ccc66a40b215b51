/**
 * `pptp-ts decode FILE|- [--json] [--all] [--show-secrets]` and
 * `pptp-ts decode --interface IF`: prints every PPTP-related packet of a
 * pcap or pcapng capture, read from a file, from standard input as it
 * arrives, or live from an interface, layer by layer (see docs/decode.md).
 * The decoding itself is pure (`src/decode/`, `src/capture/`); this file
 * reads the input and writes to the terminal, with back-pressure, and stops
 * quietly when the reader of a pipe goes away (`| head`).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CaptureStreamReader } from '../capture/stream.js';
import type { CapturedPacket } from '../capture/types.js';
import {
  type DecodedPacket,
  Dissector,
  type DissectorOptions,
  type DissectorStats,
  decodeCapture,
  packetJson,
  renderPacketText,
} from '../decode/index.js';
import { errorText } from '../io/os-errors.js';
import { WireError } from '../wire/errors.js';

export const DECODE_USAGE = `usage: pptp-ts decode FILE|- [--json] [--all] [--show-secrets] [--password-file F]
       pptp-ts decode --interface IF [--count N] [--snaplen N] [...]

Prints every PPTP-related packet of a pcap or pcapng capture, layer by layer:
outer IPv4, GRE, PPP, LCP/PAP/CHAP/MS-CHAP/IPCP/IPv6CP/CCP, MPPE, the inner
IP/UDP/TCP/ICMP and DNS, and the PPTP control messages reassembled from
TCP port 1723. FILE '-' reads the capture from standard input as it
arrives (tcpdump -w - | pptp-ts decode -).

  -i, --interface IF
                  capture live on IF (needs root or CAP_NET_RAW) until
                  interrupted (Ctrl-C) or --count packets were shown
  -c, --count N   stop after N packets shown (--interface only)
  -s, --snaplen N bytes kept per frame (--interface only; default 65536)
  --json          one JSON object per packet, one per line
  --all           list every frame, not only PPTP-related ones
  --show-secrets  show PAP passwords (hidden by default)
  --password-file F
                  decrypt MPPE with the account's password (first line of F),
                  after an MS-CHAP exchange in the capture
  --password P    the same, with the password on the command line (visible
                  to other users in the process list: prefer the file)
  -h, --help      this text
`;

/** Where the command reads and writes (replaceable in tests). */
export interface DecodeIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** What `-` reads (default: the process's standard input). */
  readonly stdin?: NodeJS.ReadableStream;
  /** Ends a live capture as SIGINT does (default: SIGINT and SIGTERM). */
  readonly signal?: AbortSignal;
}

/** Writes with back-pressure; resolves false once the stream is closed or broken (EPIPE). */
function writer(stream: NodeJS.WritableStream): {
  write(s: string): Promise<boolean>;
  readonly closed: boolean;
} {
  let closed = false;
  stream.on('error', () => {
    closed = true;
  });
  return {
    get closed() {
      return closed;
    },
    async write(s: string): Promise<boolean> {
      if (closed) return false;
      if (stream.write(s)) return true;
      await new Promise<void>((resolve) => {
        const done = () => {
          stream.off('drain', done);
          stream.off('error', done);
          stream.off('close', done);
          resolve();
        };
        stream.on('drain', done);
        stream.on('error', done);
        stream.on('close', done);
      });
      return !closed;
    },
  };
}

/** Prints decoded packets, the warnings as they appear, and the summary line. */
class Output {
  private readonly out;
  private first = true;
  private warned = 0;
  constructor(
    private readonly io: DecodeIo,
    private readonly json: boolean,
  ) {
    this.out = writer(io.stdout);
  }

  /** Writes one packet; false once the reader went away. */
  async packet(p: DecodedPacket, stats: DissectorStats): Promise<boolean> {
    this.warnings(stats);
    const text = this.json
      ? `${JSON.stringify(packetJson(p))}\n`
      : `${this.first ? '' : '\n'}${renderPacketText(p)}\n`;
    this.first = false;
    return this.out.write(text);
  }

  /** Problems with the whole capture (a wrong password): each said once, on stderr. */
  warnings(stats: DissectorStats): void {
    for (; this.warned < stats.warnings.length; this.warned++)
      this.io.stderr.write(`pptp-ts decode: ${stats.warnings[this.warned]}\n`);
  }

  summary(s: DissectorStats, extra = ''): void {
    this.warnings(s);
    if (this.json) return;
    const unsupported = [...s.unsupportedLinkTypes]
      .map(([t, n]) => `link type ${t} (${n} frames)`)
      .join(', ');
    this.io.stderr.write(
      `${s.frames} frames read, ${s.shown} shown: ${s.pptpMessages} PPTP control messages, ${s.greFrames} GRE packets` +
        `${s.malformedLayers ? `, ${s.malformedLayers} malformed layers` : ''}` +
        `${unsupported ? `; not readable: ${unsupported}` : ''}${extra}\n`,
    );
  }
}

/** Parses a positive integer option; undefined when absent. */
function intOption(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max)
    throw new Error(`--${name} ${v}: expected a whole number in ${min}..${max}`);
  return n;
}

/** Runs `pptp-ts decode`; returns the exit code (0 ok, 1 unreadable or corrupt capture, 2 usage). */
export async function runDecode(argv: string[], io: DecodeIo = process): Promise<number> {
  let values: {
    json?: boolean;
    all?: boolean;
    'show-secrets'?: boolean;
    help?: boolean;
    password?: string;
    'password-file'?: string;
    interface?: string;
    count?: string;
    snaplen?: string;
  };
  let positionals: string[];
  let count: number | undefined;
  let snaplen: number | undefined;
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        all: { type: 'boolean' },
        'show-secrets': { type: 'boolean' },
        password: { type: 'string' },
        'password-file': { type: 'string' },
        interface: { type: 'string', short: 'i' },
        count: { type: 'string', short: 'c' },
        snaplen: { type: 'string', short: 's' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
    count = intOption('count', values.count, 1, Number.MAX_SAFE_INTEGER);
    snaplen = intOption('snaplen', values.snaplen, 64, 262_144);
    if (values.interface === undefined && (count !== undefined || snaplen !== undefined))
      throw new Error('--count and --snaplen apply to --interface only');
  } catch (e) {
    io.stderr.write(`pptp-ts decode: ${(e as Error).message}\n${DECODE_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(DECODE_USAGE);
    return 0;
  }
  const live = values.interface;
  if (live !== undefined ? positionals.length !== 0 : positionals.length !== 1) {
    const what =
      live !== undefined
        ? `--interface takes no capture file, got ${positionals.length}`
        : `expected one capture file (or - for standard input), got ${positionals.length}`;
    io.stderr.write(`pptp-ts decode: ${what}\n${DECODE_USAGE}`);
    return 2;
  }
  let password = values.password;
  if (values['password-file'] !== undefined) {
    try {
      // The first line, without its line ending: what `echo secret > F` writes.
      password = (await readFile(values['password-file'], 'utf8')).split(/\r?\n/)[0]!;
    } catch (e) {
      io.stderr.write(`pptp-ts decode: ${values['password-file']}: ${errorText(e)}\n`);
      return 1;
    }
  }
  const opts: DissectorOptions = {
    all: values.all === true,
    showSecrets: values['show-secrets'] === true,
    ...(password === undefined ? {} : { password }),
  };
  const output = new Output(io, values.json === true);
  if (live !== undefined) return decodeLive(live, opts, output, io, count, snaplen);
  const file = positionals[0]!;
  if (file === '-') return decodeStream(io.stdin ?? process.stdin, opts, output, io);
  let bytes: Uint8Array;
  try {
    const buf = await readFile(file);
    bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    io.stderr.write(`pptp-ts decode: ${file}: ${errorText(e)}\n`);
    return 1;
  }
  let capture: ReturnType<typeof decodeCapture>;
  try {
    capture = decodeCapture(bytes, opts);
  } catch (e) {
    const why = e instanceof WireError ? e.message : String(e);
    io.stderr.write(`pptp-ts decode: ${file}: ${why}\n`);
    return 1;
  }
  for (const p of capture) {
    if (!(await output.packet(p, capture.stats))) return 0; // the reader went away: not an error
  }
  output.summary(capture.stats);
  if (capture.error) {
    io.stderr.write(
      `pptp-ts decode: ${file}: reading stopped after frame ${capture.lastFrame}: ${capture.error.message}\n`,
    );
    return 1;
  }
  return 0;
}

/**
 * `-`: a capture read from a stream as it arrives, one record at a time
 * (memory bounded by one record, see `capture/stream.ts`); output keeps up
 * with input because the next chunk is read only once the packets of this
 * one are written.
 */
async function decodeStream(
  input: NodeJS.ReadableStream,
  opts: DissectorOptions,
  output: Output,
  io: DecodeIo,
): Promise<number> {
  const reader = new CaptureStreamReader();
  const dissector = new Dissector(opts);
  const show = async (packets: Iterable<DecodedPacket>): Promise<boolean> => {
    for (const p of packets) if (!(await output.packet(p, dissector.stats))) return false;
    return true;
  };
  let failure: string | undefined;
  try {
    for await (const chunk of input) {
      const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : (chunk as Uint8Array);
      const decoded: DecodedPacket[] = [];
      for (const p of reader.push(bytes)) {
        const d = dissector.dissect(p);
        if (d) decoded.push(d);
      }
      if (!(await show(decoded))) return 0;
      if (reader.error) break; // corrupt: stop reading (the writer of the pipe gets EPIPE)
    }
    reader.end();
  } catch (e) {
    failure = e instanceof WireError ? e.message : `${(e as Error).message}`;
  }
  if (!(await show(dissector.finish()))) return 0;
  if (failure && reader.frameCount === 0 && dissector.stats.frames === 0) {
    io.stderr.write(`pptp-ts decode: standard input: ${failure}\n`);
    return 1;
  }
  output.summary(dissector.stats);
  if (failure) {
    io.stderr.write(
      `pptp-ts decode: standard input: reading stopped after frame ${reader.frameCount}: ${failure}\n`,
    );
    return 1;
  }
  return 0;
}

/** Most packets waiting for the terminal in a live capture; more are counted and left out. */
const LIVE_QUEUE = 4096;

/**
 * `--interface IF`: frames from an AF_PACKET socket (the capture of
 * `io/capture.ts`), dissected as they arrive, until SIGINT/SIGTERM, the
 * `signal`, or `count` packets shown. Packets wait in a bounded queue when
 * the terminal is slower than the network; beyond it they are counted and
 * reported in the summary.
 */
async function decodeLive(
  ifname: string,
  opts: DissectorOptions,
  output: Output,
  io: DecodeIo,
  count: number | undefined,
  snaplen: number | undefined,
): Promise<number> {
  const { startCapture, pptpTrafficFilter } = await import('../io/capture.js');
  const dissector = new Dissector(opts);
  const queue: DecodedPacket[] = [];
  let dropped = 0;
  let shown = 0;
  let wake: (() => void) | undefined;
  let done = false;
  const finish = (): void => {
    done = true;
    wake?.();
  };
  let frames = 0;
  // Everything until the link type is known (no frame arrives before that), then PPTP only unless --all.
  let keep: (frame: Uint8Array) => boolean = () => true;
  let capture: Awaited<ReturnType<typeof startCapture>>;
  try {
    capture = startCapture({
      ifname,
      ...(snaplen === undefined ? {} : { snapLength: snaplen }),
      filter: (frame) => keep(frame),
      onPacket: (frame, info) => {
        if (done) return;
        const p: CapturedPacket = {
          frameNumber: ++frames,
          interfaceId: 0,
          linkType: capture.linkType,
          fcsLength: 0,
          timestamp: { ...info.timestamp },
          originalLength: info.originalLength,
          data: frame.slice(), // the ring slot is reused after this call
        };
        const d = dissector.dissect(p);
        if (!d) return;
        if (queue.length >= LIVE_QUEUE) dropped++;
        else queue.push(d);
        wake?.();
      },
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const hint = err.code === 'EPERM' || err.code === 'EACCES' ? ' (needs root or CAP_NET_RAW)' : '';
    io.stderr.write(`pptp-ts decode: --interface ${ifname}: ${err.message}${hint}\n`);
    return 1;
  }
  if (opts.all !== true) keep = pptpTrafficFilter(capture.linkType);
  // As tshark does: where it listens, on stderr, once the socket is open.
  io.stderr.write(
    `pptp-ts decode: capturing on ${ifname}${opts.all === true ? '' : ' (PPTP: GRE and TCP port 1723)'}\n`,
  );
  const onSignal = (): void => finish();
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  if (io.signal) io.signal.addEventListener('abort', onSignal, { once: true });
  else for (const s of signals) process.once(s, onSignal);
  let readerGone = false;
  try {
    while (!done || queue.length) {
      const p = queue.shift();
      if (!p) {
        await new Promise<void>((r) => {
          wake = r;
        });
        wake = undefined;
        continue;
      }
      if (!(await output.packet(p, dissector.stats))) {
        readerGone = true;
        break;
      }
      if (count !== undefined && ++shown >= count) break;
    }
  } finally {
    done = true;
    if (io.signal) io.signal.removeEventListener('abort', onSignal);
    else for (const s of signals) process.off(s, onSignal);
  }
  let failure: string | undefined;
  await capture.stop().catch((e: Error) => {
    failure = e.message;
  });
  if (readerGone) return 0;
  output.summary(dissector.stats, dropped ? `; ${dropped} packets not shown (output too slow)` : '');
  if (failure) {
    io.stderr.write(`pptp-ts decode: --interface ${ifname}: ${failure}\n`);
    return 1;
  }
  return 0;
}
