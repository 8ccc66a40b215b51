/**
 * IPv4 fragment reassembly for captures (RFC 791 §3.2 "Fragmentation and
 * Reassembly"): a GRE packet fragmented on its way (DF clear, a link with a
 * smaller MTU) is put back together so its PPTP layers can be read.
 *
 * RFC 791: "The internet identification field (ID) is used together with
 * the source and destination address, and the protocol fields, to identify
 * datagram fragments for reassembly." Fragments are kept per such key until
 * they cover the datagram from offset 0 to the end given by the fragment
 * with MF clear. Where fragments overlap, the bytes that arrived first are
 * kept (as Linux does for non-malicious overlaps; RFC 5722 refuses them for
 * IPv6, and we flag them).
 *
 * Bounded and time-free: the caller passes the capture time of each
 * fragment (seconds), and datagrams not completed within
 * {@link Ipv4ReassemblyLimits.timeoutSeconds} of their first fragment are
 * dropped, like a host's reassembly timer (RFC 791 suggests 15 s; Linux
 * uses 30 s). Memory is capped per datagram (the IPv4 maximum) and in
 * number of datagrams (least recently started dropped first).
 */

/** One fragment as the IPv4 header describes it. */
export interface Ipv4Fragment {
  readonly source: string;
  readonly destination: string;
  readonly protocol: number;
  readonly identification: number;
  /** Fragment Offset in bytes. */
  readonly offset: number;
  readonly moreFragments: boolean;
  /** The fragment's payload (after the IPv4 header). */
  readonly payload: Uint8Array;
  /** Capture time in seconds (any origin; only differences matter). */
  readonly time: number;
  /** Caller's label (e.g. frame number), returned with the completed datagram. */
  readonly tag: number;
}

/** Result of adding a fragment. */
export type Ipv4ReassemblyResult =
  | { readonly kind: 'held'; readonly fragments: number }
  | {
      readonly kind: 'complete';
      /** The reassembled payload (a new array). */
      readonly payload: Uint8Array;
      /** Tags of the fragments, in offset order. */
      readonly tags: readonly number[];
      /** Some fragments overlapped (first bytes kept). */
      readonly overlapped: boolean;
    }
  | { readonly kind: 'invalid'; readonly reason: string };

export interface Ipv4ReassemblyLimits {
  readonly maxDatagrams: number;
  readonly timeoutSeconds: number;
}

export const DEFAULT_IPV4_REASSEMBLY_LIMITS: Ipv4ReassemblyLimits = {
  maxDatagrams: 1024,
  timeoutSeconds: 30,
};

/** RFC 791: Total Length is 16 bits, so no datagram payload exceeds 65535 − 20 bytes. */
const MAX_PAYLOAD = 65535 - 20;

interface Pending {
  start: number;
  pieces: { offset: number; data: Uint8Array; tag: number }[];
  /** Payload length, known once the last fragment (MF clear) arrives. */
  total: number | undefined;
}

export class Ipv4Reassembler {
  private readonly pending = new Map<string, Pending>();
  private readonly limits: Ipv4ReassemblyLimits;

  constructor(limits: Partial<Ipv4ReassemblyLimits> = {}) {
    this.limits = { ...DEFAULT_IPV4_REASSEMBLY_LIMITS, ...limits };
  }

  /** Datagrams waiting for more fragments. */
  get size(): number {
    return this.pending.size;
  }

  add(f: Ipv4Fragment): Ipv4ReassemblyResult {
    this.expire(f.time);
    const end = f.offset + f.payload.length;
    if (end > MAX_PAYLOAD)
      return { kind: 'invalid', reason: `fragment ends at ${end}, past the largest IPv4 datagram` };
    // RFC 791: "the fragment offset is measured in units of 8 octets"; every fragment
    // but the last carries a multiple of 8 bytes.
    if (f.moreFragments && f.payload.length % 8 !== 0) {
      return {
        kind: 'invalid',
        reason: `a fragment with MF set carries ${f.payload.length} bytes, not a multiple of 8`,
      };
    }
    const key = `${f.source}>${f.destination}/${f.protocol}/${f.identification}`;
    let p = this.pending.get(key);
    if (!p) {
      p = { start: f.time, pieces: [], total: undefined };
      this.pending.set(key, p);
      while (this.pending.size > this.limits.maxDatagrams)
        this.pending.delete(this.pending.keys().next().value as string);
    }
    if (!f.moreFragments) {
      if (p.total !== undefined && p.total !== end) {
        this.pending.delete(key);
        return {
          kind: 'invalid',
          reason: `two last fragments disagree on the length (${p.total} and ${end})`,
        };
      }
      p.total = end;
    }
    p.pieces.push({ offset: f.offset, data: f.payload, tag: f.tag });
    if (p.total === undefined) return { kind: 'held', fragments: p.pieces.length };
    // Complete when the pieces, sorted by offset, leave no hole up to `total`.
    const sorted = [...p.pieces].sort((a, b) => a.offset - b.offset);
    let covered = 0;
    let overlapped = false;
    for (const s of sorted) {
      if (s.offset > covered) return { kind: 'held', fragments: p.pieces.length };
      if (s.offset < covered) overlapped = true;
      covered = Math.max(covered, s.offset + s.data.length);
    }
    if (covered < p.total) return { kind: 'held', fragments: p.pieces.length };
    const out = new Uint8Array(p.total);
    // First arrival wins: write in reverse arrival order so earlier pieces land last.
    for (let i = p.pieces.length - 1; i >= 0; i--) {
      const s = p.pieces[i]!;
      out.set(s.data.subarray(0, Math.max(0, Math.min(s.data.length, p.total - s.offset))), s.offset);
    }
    this.pending.delete(key);
    return { kind: 'complete', payload: out, tags: sorted.map((s) => s.tag), overlapped };
  }

  private expire(now: number): void {
    for (const [k, p] of this.pending) {
      if (now - p.start > this.limits.timeoutSeconds) this.pending.delete(k);
    }
  }
}
