/**
 * `decode(capture, options)`: what `pptp-ts decode --json` prints, as
 * objects (src/decode/, docs/decode.md).
 */
import { decodeCapture, packetJson } from '../decode/index.js';
import { WireError } from '../wire/errors.js';
import { CaptureError, ConfigError } from './errors.js';

/** A JSON value, as in the `--json` output. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One protocol layer of a packet: `{ layer: 'GRE', ...fields }`, with `malformed` / `note` when present. */
export interface DecodedLayer {
  readonly layer: string;
  readonly malformed?: { code: string; detail: string; reference?: string; hex?: string };
  readonly note?: string;
  readonly [field: string]: JsonValue | undefined;
}

/** One packet, exactly as one line of `pptp-ts decode --json`. */
export interface DecodedPacketJson {
  readonly frame: number;
  /** ISO 8601 UTC time. */
  readonly time: string;
  /** Seconds since the epoch, with nanoseconds, as text (exact). */
  readonly epoch: string;
  /** Seconds since the first frame. */
  readonly relative: number;
  /** Length on the wire and as captured. */
  readonly length: number;
  readonly captured: number;
  readonly interface: number;
  /** The link type name, e.g. `ethernet`. */
  readonly link: string;
  readonly layers: readonly DecodedLayer[];
}

export interface DecodeOptions {
  /** Every frame, not only PPTP-related ones (`--all`). */
  readonly all?: boolean;
  /** Show PAP passwords (`--show-secrets`; hidden by default). */
  readonly showSecrets?: boolean;
  /** The account's password, to decrypt MPPE after an MS-CHAP exchange in the capture. Never shown. */
  readonly password?: string;
}

export interface DecodeResult {
  /** `pcap` or `pcapng`. */
  readonly format: string;
  readonly packets: DecodedPacketJson[];
  /** Frames read, frames in `packets`, PPTP control messages, GRE packets, malformed layers. */
  readonly stats: {
    readonly frames: number;
    readonly shown: number;
    readonly pptpMessages: number;
    readonly greFrames: number;
    readonly malformedLayers: number;
  };
  /**
   * Set when reading stopped early at a cut-short or corrupt record: the
   * packets before it are in `packets` (the CLI exits 1 then).
   */
  readonly error: CaptureError | undefined;
}

/**
 * Decodes a pcap or pcapng capture held in memory. Throws
 * {@link CaptureError} when the bytes are not a capture at all.
 */
export function decode(capture: Uint8Array, options: DecodeOptions = {}): DecodeResult {
  if (!(capture instanceof Uint8Array)) throw new ConfigError('capture: a Uint8Array or Buffer is required');
  let c: ReturnType<typeof decodeCapture>;
  try {
    c = decodeCapture(capture, {
      all: options.all === true,
      showSecrets: options.showSecrets === true,
      ...(options.password !== undefined ? { password: options.password } : {}),
    });
  } catch (err) {
    if (err instanceof WireError) throw new CaptureError(err.message, { cause: err });
    throw err;
  }
  const packets: DecodedPacketJson[] = [];
  for (const p of c) packets.push(packetJson(p) as unknown as DecodedPacketJson);
  const s = c.stats;
  return {
    format: c.format,
    packets,
    stats: {
      frames: s.frames,
      shown: s.shown,
      pptpMessages: s.pptpMessages,
      greFrames: s.greFrames,
      malformedLayers: s.malformedLayers,
    },
    error: c.error
      ? new CaptureError(`reading stopped after frame ${c.lastFrame}: ${c.error.message}`, { cause: c.error })
      : undefined,
  };
}
