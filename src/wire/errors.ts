/**
 * The one error type every decoder in `wire/` may throw (docs/style.md §3).
 *
 * Decoders are total: given any bytes they return a value or throw a
 * {@link WireError}. Anything else escaping a decoder (a `RangeError` from a
 * DataView, a `TypeError`) is a bug, and the fuzz tests look for exactly that.
 */

/** Why a decoder refused its input. */
export enum WireErrorCode {
  /** The buffer ends before a fixed-size header or a declared length does. */
  Truncated = 'truncated',
  /** A length field is below the minimum the format allows. */
  LengthTooSmall = 'length-too-small',
  /** A length field is above the maximum the format allows, or above what is available. */
  LengthTooLarge = 'length-too-large',
  /** A version field has a value this implementation does not speak. */
  BadVersion = 'bad-version',
  /** A checksum does not verify. */
  BadChecksum = 'bad-checksum',
  /** A magic number / cookie / fixed constant has the wrong value. */
  BadMagic = 'bad-magic',
  /** A flag combination the RFC forbids. */
  BadFlags = 'bad-flags',
  /** A field holds a value outside its allowed set. */
  BadValue = 'bad-value',
  /** A message or packet type this codec does not know. */
  UnknownType = 'unknown-type',
  /** A TLV option is malformed (length < 2, or runs past the end). */
  BadOption = 'bad-option',
}

/**
 * A decoding failure. `code` says what kind, `detail` says where, and
 * `reference` quotes the RFC sentence that justifies the rejection when one
 * exists (dns-packet and mqtt-packet do the same).
 */
export class WireError extends Error {
  override readonly name = 'WireError';
  constructor(
    readonly code: WireErrorCode,
    readonly detail: string,
    readonly reference?: string,
  ) {
    super(reference ? `${code}: ${detail} (${reference})` : `${code}: ${detail}`);
  }
}

/** Throws {@link WireErrorCode.Truncated} unless `have >= need`. */
export function needBytes(have: number, need: number, what: string): void {
  if (have < need) throw new WireError(WireErrorCode.Truncated, `${what}: need ${need} bytes, have ${have}`);
}
