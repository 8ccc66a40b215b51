/**
 * `pptp-ts decode FILE [--json] [--all] [--show-secrets]`: prints every
 * PPTP-related packet of a pcap or pcapng capture, layer by layer (see
 * docs/decode.md). The decoding itself is pure (`src/decode/`); this file
 * reads the file and writes to the terminal, with back-pressure, and stops
 * quietly when the reader of a pipe goes away (`| head`).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { decodeCapture, packetJson, renderPacketText } from '../decode/index.js';
import { errorText } from '../io/os-errors.js';
import { WireError } from '../wire/errors.js';

export const DECODE_USAGE = `usage: pptp-ts decode FILE [--json] [--all] [--show-secrets] [--password-file F]

Prints every PPTP-related packet of a pcap or pcapng capture, layer by layer:
outer IPv4, GRE, PPP, LCP/PAP/CHAP/MS-CHAP/IPCP/IPv6CP/CCP, MPPE, the inner
IP/UDP/TCP/ICMP and DNS, and the PPTP control messages reassembled from
TCP port 1723.

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

/** Where the command writes (replaceable in tests). */
export interface DecodeIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
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

/** Runs `pptp-ts decode`; returns the exit code (0 ok, 1 unreadable or corrupt capture, 2 usage). */
export async function runDecode(argv: string[], io: DecodeIo = process): Promise<number> {
  let values: {
    json?: boolean;
    all?: boolean;
    'show-secrets'?: boolean;
    help?: boolean;
    password?: string;
    'password-file'?: string;
  };
  let positionals: string[];
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
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    io.stderr.write(`pptp-ts decode: ${(e as Error).message}\n${DECODE_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(DECODE_USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    io.stderr.write(`pptp-ts decode: expected one capture file, got ${positionals.length}\n${DECODE_USAGE}`);
    return 2;
  }
  const file = positionals[0]!;
  let bytes: Uint8Array;
  try {
    const buf = await readFile(file);
    bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    io.stderr.write(`pptp-ts decode: ${file}: ${errorText(e)}\n`);
    return 1;
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
  let capture: ReturnType<typeof decodeCapture>;
  try {
    capture = decodeCapture(bytes, {
      all: values.all === true,
      showSecrets: values['show-secrets'] === true,
      ...(password === undefined ? {} : { password }),
    });
  } catch (e) {
    const why = e instanceof WireError ? e.message : String(e);
    io.stderr.write(`pptp-ts decode: ${file}: ${why}\n`);
    return 1;
  }
  const out = writer(io.stdout);
  const json = values.json === true;
  let first = true;
  for (const p of capture) {
    const text = json ? `${JSON.stringify(packetJson(p))}\n` : `${first ? '' : '\n'}${renderPacketText(p)}\n`;
    first = false;
    if (!(await out.write(text))) return 0; // the reader went away: not an error
  }
  const s = capture.stats;
  if (!json) {
    const unsupported = [...s.unsupportedLinkTypes]
      .map(([t, n]) => `link type ${t} (${n} frames)`)
      .join(', ');
    io.stderr.write(
      `${s.frames} frames read, ${s.shown} shown: ${s.pptpMessages} PPTP control messages, ${s.greFrames} GRE packets` +
        `${s.malformedLayers ? `, ${s.malformedLayers} malformed layers` : ''}` +
        `${unsupported ? `; not readable: ${unsupported}` : ''}\n`,
    );
  }
  if (capture.error) {
    io.stderr.write(
      `pptp-ts decode: ${file}: reading stopped after frame ${capture.lastFrame}: ${capture.error.message}\n`,
    );
    return 1;
  }
  return 0;
}
