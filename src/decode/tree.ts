/**
 * The dissection tree: what `pptp-ts decode` knows about one captured frame,
 * layer by layer, in a form that renders both as the text of a protocol
 * analyser's detail pane (`render.ts`) and as one JSON object per packet.
 *
 * A {@link Layer} is one protocol header (Ethernet, IPv4, GRE, PPP, LCP,
 * PPTP, DNS...). Its {@link Field}s are either scalars (shown inline on the
 * layer's line in text, as `key: value` in JSON) or groups (an option, a DNS
 * answer: shown on their own indented line in text, as a nested object or
 * array in JSON). Each field carries its own display text, so the text
 * output says "DF" or "ttl 64" while JSON says `"dontFragment": true`.
 */

import type { Timestamp } from '../capture/types.js';
import { WireError } from '../wire/errors.js';

/** A JSON scalar. */
export type Scalar = string | number | boolean | null;

/** One field of a layer (see the module comment). */
export interface Field {
  /** JSON key, camelCase, unique among its siblings. */
  readonly key: string;
  /** Value for JSON. Groups have none. */
  readonly value?: Scalar;
  /**
   * How the field reads in text output. `''` hides it there (JSON only).
   * For a group, the text of its line; when absent, the group's line is its
   * scalar children's texts.
   */
  readonly text?: string;
  /** Makes the field a group. */
  readonly children?: readonly Field[];
  /** A group whose children are the items of a JSON array (each child itself a group or a scalar). */
  readonly list?: boolean;
}

/** Where and why decoding of a layer stopped. */
export interface Malformed {
  /** `WireErrorCode` value, or `internal-error` when a decoder threw something else (a bug). */
  readonly code: string;
  readonly detail: string;
  /** The RFC sentence the decoder quoted, when it gave one. */
  readonly reference?: string;
  /** Hex of the first bytes of the layer that failed. */
  readonly hex?: string;
}

/** One protocol layer of a frame. */
export interface Layer {
  /** Display name: `IPv4`, `GRE`, `PPP`, `LCP`, `PPTP`, `DNS`, ... */
  readonly protocol: string;
  readonly fields: readonly Field[];
  /** Set when the layer could not be decoded (fields then hold what was read before the failure). */
  readonly malformed?: Malformed;
  /** A remark shown after the fields (e.g. "payload encrypted: 96 bytes"). */
  readonly note?: string;
}

/** Everything decoded from one captured frame. */
export interface DecodedPacket {
  readonly frameNumber: number;
  readonly timestamp: Timestamp;
  /** Seconds since the first frame of the capture. */
  readonly relativeSeconds: number;
  readonly capturedLength: number;
  readonly originalLength: number;
  readonly interfaceId: number;
  /** Link type name (`Ethernet`, `Linux cooked capture v2`, ...). */
  readonly link: string;
  readonly layers: readonly Layer[];
}

// ─── Field constructors ─────────────────────────────────────────────────────

/** A scalar shown as `label display` (or just `display` when `label` is ''). */
export function kv(key: string, value: Scalar, label: string = key, display: string = String(value)): Field {
  return { key, value, text: label ? `${label} ${display}` : display };
}

/** Peer-supplied bytes shown quoted (`label "text"`), escaped by `printable`. */
export function quoted(key: string, b: Uint8Array, label: string = key, max = 256): Field {
  const text = printable(b, max);
  return kv(key, text, label, `"${text}"`);
}

/** The same for a string that came from the network, escaped by `printableString`. */
export function quotedString(key: string, s: string, label: string = key): Field {
  const text = printableString(s);
  return kv(key, text, label, `"${text}"`);
}

/** `label N bytes` for data that is counted, not shown; none when there is no data. */
export function byteCount(key: string, b: Uint8Array, label: string): Field[] {
  return b.length ? [kv(key, b.length, label, `${b.length} bytes`)] : [];
}

/** A scalar shown exactly as `text`. */
export function shown(key: string, value: Scalar, text: string): Field {
  return { key, value, text };
}

/** A scalar kept for JSON only. */
export function hidden(key: string, value: Scalar): Field {
  return { key, value, text: '' };
}

/** A boolean shown as `label` when true and not at all when false. */
export function flag(key: string, on: boolean, label: string): Field {
  return { key, value: on, text: on ? label : '' };
}

/** A group on its own line. */
export function group(key: string, children: readonly Field[], text?: string): Field {
  return text === undefined ? { key, children } : { key, children, text };
}

/** A group whose children become a JSON array; each child is shown on its own line. */
export function list(key: string, children: readonly Field[], text?: string): Field {
  return text === undefined ? { key, children, list: true } : { key, children, list: true, text };
}

/** `0x` + zero-padded lower-case hex. */
export function hex(v: number, digits = 4): string {
  return `0x${(v >>> 0).toString(16).padStart(digits, '0')}`;
}

/** Hex of bytes, space-free, cut to `max` bytes with an ellipsis. */
export function bytesHex(b: Uint8Array, max = 32): string {
  let s = '';
  const n = Math.min(b.length, max);
  for (let i = 0; i < n; i++) s += b[i]!.toString(16).padStart(2, '0');
  return n < b.length ? `${s}…` : s;
}

/** Text of peer-supplied bytes: printable ASCII kept, everything else escaped, so output cannot be spoofed by control characters. */
export function printable(b: Uint8Array, max = 256): string {
  let s = '';
  const n = Math.min(b.length, max);
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c >= 0x20 && c < 0x7f && c !== 0x5c) s += String.fromCharCode(c);
    else if (c === 0x5c) s += '\\\\';
    else s += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return n < b.length ? `${s}…` : s;
}

/** The same escaping for a string that came from the network. */
export function printableString(s: string, max = 256): string {
  let out = '';
  const n = Math.min(s.length, max);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && c !== 0x5c) out += s[i];
    else if (c === 0x5c) out += '\\\\';
    else if (c < 0x100) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += `\\u{${c.toString(16)}}`;
  }
  return n < s.length ? `${out}…` : out;
}

/** A layer that failed to decode. `fields` are whatever was learnt before the failure. */
export function malformedLayer(
  protocol: string,
  err: unknown,
  bytes?: Uint8Array,
  fields: Field[] = [],
): Layer {
  return { protocol, fields, malformed: malformedOf(err, bytes) };
}

/** Describes an error thrown by a decoder. Anything but `WireError` is a decoder bug and says so. */
export function malformedOf(err: unknown, bytes?: Uint8Array): Malformed {
  const hexPart = bytes ? { hex: bytesHex(bytes, 24) } : {};
  if (err instanceof WireError) {
    return {
      code: err.code,
      detail: err.detail,
      ...(err.reference ? { reference: err.reference } : {}),
      ...hexPart,
    };
  }
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { code: 'internal-error', detail: `decoder bug: ${detail}`, ...hexPart };
}
