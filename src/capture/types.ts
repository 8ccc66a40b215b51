/**
 * What every capture reader yields, whatever the file format: one
 * {@link CapturedPacket} per frame, with the link type that says how to read
 * its first bytes (see `link.ts`).
 *
 * Ownership: `data` is a `subarray` view into the file's bytes; it stays
 * valid as long as the caller keeps those bytes.
 */

/**
 * A capture time stamp: whole seconds since the Unix epoch (UTC) plus a
 * nanosecond fraction. pcap stores micro- or nanoseconds and pcapng any
 * power of 10 or 2 per second; everything is converted to nanoseconds here
 * (finer resolutions are truncated).
 */
export interface Timestamp {
  readonly seconds: number;
  /** 0 … 999 999 999. */
  readonly nanoseconds: number;
}

/** One captured frame. */
export interface CapturedPacket {
  /** 1-based frame number in file order (what tshark calls `frame.number`). */
  readonly frameNumber: number;
  /** Index of the capture interface (always 0 for classic pcap). */
  readonly interfaceId: number;
  /** LINKTYPE_* value of the interface (see `LinkType` in `link.ts`). */
  readonly linkType: number;
  /** Bytes of frame check sequence at the end of each frame on this interface (0 when none or unknown). */
  readonly fcsLength: number;
  readonly timestamp: Timestamp;
  /** Length of the frame on the wire; larger than `data.length` when the capture was cut by its snap length. */
  readonly originalLength: number;
  /** The captured bytes (a view into the file). */
  readonly data: Uint8Array;
}

/** A capture interface (pcapng Interface Description Block; classic pcap has exactly one). */
export interface CaptureInterface {
  readonly linkType: number;
  /** Snap length; 0 means "no limit" in pcapng. */
  readonly snapLength: number;
  readonly fcsLength: number;
  /** `if_name`, when the file records one. */
  readonly name?: string;
}

/** The container formats this folder reads. */
export type CaptureFormat = 'pcap' | 'pcapng';

/**
 * A parsed capture file. Iterating yields the packets in file order; the
 * iterator throws `WireError` when it meets a corrupt record (the packets
 * before it have been yielded), which lets `pptp-ts decode` print what it
 * could read and then say where the file broke, as tshark does for a file
 * "cut short in the middle of a packet".
 */
export interface CaptureReader extends Iterable<CapturedPacket> {
  readonly format: CaptureFormat;
  /** Interfaces seen so far (pcapng adds them as its blocks are read). */
  readonly interfaces: readonly CaptureInterface[];
}

/**
 * Builds a {@link Timestamp} from whole seconds and a fraction counted in
 * `unitsPerSecond`, a divisor of 1e9 (1e6 for classic pcap, 1e9 for
 * nanosecond pcap). A
 * fraction of a second or more (a corrupt or hostile record) carries into
 * the seconds instead of producing an out-of-range nanosecond field.
 */
export function timestampFrom(seconds: number, fraction: number, unitsPerSecond: number): Timestamp {
  const carry = Math.floor(fraction / unitsPerSecond);
  const rest = fraction - carry * unitsPerSecond;
  return { seconds: seconds + carry, nanoseconds: rest * (1e9 / unitsPerSecond) };
}

/**
 * Builds a {@link Timestamp} from a 64-bit tick count (pcapng: ticks of
 * 1/`unitsPerSecond` since the epoch, plus the interface's `if_tsoffset`
 * seconds). Sub-nanosecond resolutions are truncated to nanoseconds.
 */
export function timestampFromTicks(ticks: bigint, unitsPerSecond: bigint, offsetSeconds = 0n): Timestamp {
  const seconds = ticks / unitsPerSecond + offsetSeconds;
  const rest = ticks % unitsPerSecond;
  return { seconds: Number(seconds), nanoseconds: Number((rest * 1_000_000_000n) / unitsPerSecond) };
}
