/**
 * MPPE's limits and configuration (RFC 3078): what both directions of the
 * engine (src/mppe/encryptor.ts, src/mppe/mppe.ts) and their owners share.
 */
import type { MppeKeyBits } from '../crypto/mppe-keys.js';
import { MPPE_HEADER_LENGTH } from '../wire/mppe.js';

/** Bytes the encryptor writes in front of the payload: MPPE header (2) + inner PPP protocol (2). */
export const MPPE_HEADROOM = MPPE_HEADER_LENGTH + 2;

/** RFC 3078 §3: "Only packets with PPP Protocol numbers in the range 0x0021 to 0x00FA are encrypted." */
export const MPPE_MIN_PROTOCOL = 0x0021;
/** Upper end of the encryptable range (RFC 3078 §3). */
export const MPPE_MAX_PROTOCOL = 0x00fa;

/**
 * Default cap on stateless key changes performed for one received packet.
 * Each costs a SHA-1 and two RC4 key schedules (a few µs); RFC 3078 §8.1
 * allows up to 4095. Linux allows 2048 per packet.
 */
export const DEFAULT_MAX_REKEYS_PER_PACKET = 256;

/**
 * A received coherency count at most this far *behind* the last accepted
 * one is "late" (duplicated or reordered) and dropped without touching the
 * keys; anything else that is not the next count is a forward jump.
 */
export const MPPE_LATE_WINDOW = 256;

/**
 * 'linux' stateful re-sync: how many FLUSHED packets (each a key change at
 * the sender) we may have missed during one loss episode and still recover
 * from; see `MppeDecryptor.decrypt`.
 */
export const MPPE_MAX_MISSED_RESETS = 4;

/**
 * Stateful: the most extra key changes a re-sync may try. Every re-sync that
 * turns out wrong (the next packets decrypt to garbage) widens the next
 * guess by two, from {@link MPPE_MAX_MISSED_RESETS} up to this, each trial
 * a SHA-1 and an RC4 key schedule on two bytes.
 */
export const MPPE_MAX_RESYNC_GUESS = 32;

/**
 * Stateful: packets that must decrypt well after a re-sync before its
 * starting point (the key state before the guess) is forgotten.
 */
export const MPPE_RESYNC_CONFIRM_PACKETS = 16;

/** What a stateful FLUSHED (A) packet that is not a flag packet means; see the module comment. */
export type MppeStatefulReset = 'rfc3078' | 'linux';

/** Configuration of one direction. */
export interface MppeDirectionConfig {
  /** Negotiated strength (CCP option 18 L/M/S bits, RFC 3078 §2). */
  readonly bits: MppeKeyBits;
  /** Stateless mode (H bit) negotiated. */
  readonly stateless: boolean;
  /**
   * This direction's master key (RFC 3078 "StartKey"): at least 8 bytes for
   * 40/56-bit, 16 for 128-bit; see src/crypto/mppe-keys.ts. Copied.
   */
  readonly masterKey: Uint8Array;
  /** Stateful only; default 'linux'. Both ends must agree. */
  readonly statefulReset?: MppeStatefulReset;
}

/** Receive-side configuration. */
export interface MppeReceiveConfig extends MppeDirectionConfig {
  /** Stateless only: cap on key changes per received packet (default {@link DEFAULT_MAX_REKEYS_PER_PACKET}). */
  readonly maxRekeysPerPacket?: number;
}

/** Both directions (what CCP hands over once MPPE is Opened). */
export interface MppeConfig {
  readonly bits: MppeKeyBits;
  readonly stateless: boolean;
  /** Our transmit master key and our receive master key (src/crypto `MppeMasterKeys`). */
  readonly keys: { readonly sendKey: Uint8Array; readonly receiveKey: Uint8Array };
  readonly statefulReset?: MppeStatefulReset;
  readonly maxRekeysPerPacket?: number;
}
