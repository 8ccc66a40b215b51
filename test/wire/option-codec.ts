/**
 * Adapts a typed option decoder/encoder pair (one Configuration Option,
 * RFC 1661 §6) to the `Codec` shape of test/helpers/codec.ts, so every typed
 * option value runs through the docs/style.md §5.1 fixture suite: the bytes are
 * one whole option TLV (Type, Length, Data).
 */
import { type CpOption, cpOptionsLength, decodeCpOptions, encodeCpOptions } from '../../src/wire/cp.js';
import { WireError, WireErrorCode } from '../../src/wire/errors.js';
import type { Codec } from '../helpers/codec.js';

export function optionCodec<T>(decode: (o: CpOption) => T, encode: (v: T) => CpOption): Codec<T> {
  return {
    decode(b) {
      if (b.length < 2) throw new WireError(WireErrorCode.Truncated, `option: ${b.length} bytes`);
      const len = b[1]!;
      if (len > b.length)
        throw new WireError(WireErrorCode.LengthTooLarge, `option Length ${len} > ${b.length}`);
      const opts = decodeCpOptions(b.subarray(0, len));
      if (opts.length !== 1)
        throw new WireError(WireErrorCode.BadOption, `expected one option, got ${opts.length}`);
      return decode(opts[0]!);
    },
    encode: (v, out, offset) => encodeCpOptions([encode(v)], out, offset),
    length: (v) => cpOptionsLength([encode(v)]),
  };
}

/** Makes the option's Length claim more bytes than are present. */
export function lieOptionLength(b: Uint8Array): Uint8Array {
  b[1] = b.length + 1;
  return b;
}
