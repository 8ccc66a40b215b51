/**
 * `decode/`: what `pptp-ts decode` does, without the file and terminal
 * parts (those live in `cli/decode.ts`). Open a capture's bytes, iterate the
 * decoded PPTP-related packets, render them as text or JSON.
 */

import { openCapture } from '../capture/open.js';
import type { CapturedPacket, CaptureFormat } from '../capture/types.js';
import { WireError, WireErrorCode } from '../wire/errors.js';
import { Dissector, type DissectorOptions, type DissectorStats } from './dissector.js';
import type { DecodedPacket } from './tree.js';

export { Dissector, type DissectorOptions, type DissectorStats } from './dissector.js';
export { formatTimestamp, layerJson, layerLines, packetJson, renderPacketText } from './render.js';
export type { DecodedPacket, Field, Layer, Malformed } from './tree.js';

/** A decoded capture: packets while iterating, then `stats` and `error` (set when the file broke part-way). */
export interface DecodedCapture extends Iterable<DecodedPacket> {
  readonly format: CaptureFormat;
  readonly stats: DissectorStats;
  /** Why reading stopped early (a cut-short or corrupt record), after iteration ended. */
  readonly error: WireError | undefined;
  /** Frame number of the last frame read before `error`. */
  readonly lastFrame: number;
}

/**
 * Decodes a capture file's bytes. Throws `WireError` when they are not a
 * pcap/pcapng file; otherwise iteration never throws: a corrupt record ends
 * it and is reported in `error`.
 */
export function decodeCapture(bytes: Uint8Array, opts: DissectorOptions = {}): DecodedCapture {
  const reader = openCapture(bytes);
  const dissector = new Dissector(opts);
  const result = {
    format: reader.format,
    stats: dissector.stats,
    error: undefined as WireError | undefined,
    lastFrame: 0,
    *[Symbol.iterator](): Iterator<DecodedPacket> {
      const it = reader[Symbol.iterator]();
      for (;;) {
        let next: IteratorResult<CapturedPacket>;
        try {
          next = it.next();
        } catch (e) {
          // Readers throw only WireError; anything else is reported the same way rather than crash.
          result.error =
            e instanceof WireError
              ? e
              : new WireError(WireErrorCode.BadValue, `capture reader: ${String(e)}`);
          break;
        }
        if (next.done) break;
        result.lastFrame = next.value.frameNumber;
        const d = dissector.dissect(next.value);
        if (d) yield d;
      }
      yield* dissector.finish();
    },
  };
  return result;
}
