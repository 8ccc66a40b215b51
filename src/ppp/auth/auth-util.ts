/**
 * Small helpers shared by the authentication engines: randomness, constant-
 * time secret comparison, `DOMAIN\user` stripping, printable peer text, and
 * redaction of secret material.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import { randomBytesPooled } from '../../crypto/random.js';
import type { Logger } from '../../log/logger.js';
import { fromUtf8 } from '../../wire/bytes.js';
import { WireError } from '../../wire/errors.js';
import type { PppFrame } from '../../wire/ppp.js';
import type {
  AuthAction,
  AuthFailure,
  AuthFailureReason,
  AuthMethod,
  AuthRole,
  RandomBytes,
} from './types.js';

/** Bytes from the CSPRNG (crypto/random.ts's pool). */
export const defaultRandom: RandomBytes = randomBytesPooled;

/**
 * Constant-time equality of two secrets of possibly different lengths:
 * both are hashed first so `timingSafeEqual` sees equal lengths and the
 * comparison time does not reveal where (or whether by length) they differ.
 */
export function secretsEqual(a: Uint8Array, b: Uint8Array): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Constant-time equality of two equal-length digests (false when lengths differ). */
export function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The user part of `DOMAIN\user` (everything after the last backslash), as
 * pppd's `ms-ignore-domain` and RFC 2759 §4 describe the Name field:
 * "The Windows NT domain name may prefix the user's account name (e.g.
 * "BIGCO\johndoe")".
 */
export function stripDomain(name: string): string {
  const i = name.lastIndexOf('\\');
  return i < 0 ? name : name.slice(i + 1);
}

/** Decodes a peer-supplied name (UTF-8; invalid sequences become U+FFFD). */
export function decodeName(b: Uint8Array): string {
  return fromUtf8(b);
}

/**
 * Peer-supplied text made safe for logs and results: control characters
 * become `.`, length is capped.
 */
export function printable(text: Uint8Array | string, max = 200): string {
  const s = typeof text === 'string' ? text : fromUtf8(text);
  // One pass that yields one flat string: a string built a character at a time is a chain of
  // small strings, kept as long as the result (an authenticated session keeps its message).
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it replaces
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, '.');
  if (clean.length <= max) return clean;
  // Cut at a code point boundary at or just past `max` (a surrogate pair stays whole).
  const c = clean.charCodeAt(max - 1);
  const cut = c >= 0xd800 && c <= 0xdbff ? max + 1 : max;
  return clean.length <= cut ? clean : `${clean.slice(0, cut)}…`;
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * Marks an object holding secrets so that `JSON.stringify`, string
 * conversion and `util.inspect` (console.log) print `[redacted]` instead of
 * its bytes (docs/style.md §3: "Secrets ... never appear in logs or toString").
 * The helpers are inherited and non-enumerable, so the object still
 * spreads as plain data.
 */
export function redacted<T extends object>(o: T): T {
  // Inherited from one shared prototype: own copies would cost a function and a property
  // dictionary per object, and a server keeps one such object per session (docs/sessions.md).
  Object.setPrototypeOf(o, REDACTED_PROTOTYPE);
  return o;
}

const hideSecrets = (): string => '[redacted]';
const REDACTED_PROTOTYPE: object = Object.create(Object.prototype, {
  toJSON: { value: hideSecrets, enumerable: false },
  toString: { value: hideSecrets, enumerable: false },
  [INSPECT]: { value: hideSecrets, enumerable: false },
});

/** A `send` action. */
export function sendAction(protocol: number, payload: Uint8Array): AuthAction {
  const frame: PppFrame = { protocol, payload };
  return { kind: 'send', frame };
}

/**
 * A `failure` action of `engine` (its method and role): the reason, the
 * detail for logs, and whatever else is known (peer name, the message the
 * authenticator sent, the MS-CHAP `E=` code); unknown ones are left out.
 */
export function failureAction(
  engine: { readonly method: AuthMethod; readonly role: AuthRole },
  reason: AuthFailureReason,
  detail: string,
  known: {
    readonly peerName?: string;
    readonly message?: string | undefined;
    readonly error?: number | undefined;
  } = {},
): AuthAction {
  const failure: AuthFailure = {
    method: engine.method,
    role: engine.role,
    reason,
    detail,
    ...(known.peerName !== undefined ? { peerName: known.peerName } : {}),
    ...(known.message !== undefined ? { message: known.message } : {}),
    ...(known.error !== undefined ? { error: known.error } : {}),
  };
  return { kind: 'failure', failure };
}

/**
 * The packet `decode` reads from `payload`, or undefined when it is
 * malformed: such a packet is silently discarded (RFC 1661 §1.2 style) and
 * logged at debug as "`name` packet discarded".
 */
export function decodeOrDiscard<P>(
  decode: (payload: Uint8Array) => P,
  payload: Uint8Array,
  name: string,
  log: Logger,
): P | undefined {
  try {
    return decode(payload);
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    log.log('debug', `${name} packet discarded`, { error: e.message });
    return undefined;
  }
}

/** MD5, for CHAP (RFC 1994 §2.2 / RFC 1321). Not hot. */
export function md5(...parts: readonly Uint8Array[]): Uint8Array {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}
