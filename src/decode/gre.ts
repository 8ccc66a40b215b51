/**
 * The enhanced GRE layer (RFC 2637 §4.1) of a PPTP data packet, decoded
 * with the stack's strict `GreView` (so a packet shown malformed here is one
 * the stack drops), plus a little sequence analysis per call and direction:
 * lost, duplicated and late packets, as the receiver of RFC 2637 §4.3 would
 * see them.
 */

import { seq32, u16 } from '../wire/bytes.js';
import { GRE_FLAG, GRE_FLAG2, GreView } from '../wire/gre.js';
import { type Field, flag, hex, hidden, kv, type Layer, malformedLayer, shown } from './tree.js';

/** Flag letters of octets 0 and 1 (RFC 2637 §4.1). */
function flagLetters(f0: number, f1: number): string[] {
  const out: string[] = [];
  if (f0 & GRE_FLAG.CHECKSUM) out.push('C');
  if (f0 & GRE_FLAG.ROUTING) out.push('R');
  if (f0 & GRE_FLAG.KEY) out.push('K');
  if (f0 & GRE_FLAG.SEQUENCE) out.push('S');
  if (f0 & GRE_FLAG.STRICT_SOURCE_ROUTE) out.push('s');
  if (f1 & GRE_FLAG2.ACK) out.push('A');
  return out;
}

/** What the header says before any check, for a packet the strict decoder refused. */
function rawHeaderFields(b: Uint8Array): Field[] {
  if (b.length < 4) return [];
  const f0 = b[0]!;
  const f1 = b[1]!;
  const letters = flagLetters(f0, f1);
  const fields: Field[] = [
    shown('flags', letters.join(''), `[${letters.join(' ')}]`),
    kv('version', f1 & GRE_FLAG2.VERSION_MASK, 'v', String(f1 & GRE_FLAG2.VERSION_MASK)),
    kv('protocolType', u16(b, 2), 'proto', hex(u16(b, 2))),
  ];
  if (f0 & GRE_FLAG.RECURSION_MASK) fields.push(kv('recursion', f0 & GRE_FLAG.RECURSION_MASK, 'recur'));
  if (f1 & GRE_FLAG2.FLAGS_MASK)
    fields.push(
      kv(
        'reservedFlags',
        (f1 & GRE_FLAG2.FLAGS_MASK) >>> 3,
        'flags',
        hex((f1 & GRE_FLAG2.FLAGS_MASK) >>> 3, 1),
      ),
    );
  if (b.length >= 8 && f0 & GRE_FLAG.KEY) {
    fields.push(kv('payloadLength', u16(b, 4), 'payload length'), kv('callId', u16(b, 6), 'call ID'));
  }
  return fields;
}

/** Remembers the highest sequence number seen per call and direction (bounded). */
export class GreSequenceTracker {
  private readonly last = new Map<string, number>();
  constructor(private readonly maxCalls = 4096) {}

  /**
   * Classifies `seq` against what this call and direction sent before:
   * `undefined` when it is the next one (or the first), otherwise a short
   * remark. RFC 2637 §4.3: a receiver discards duplicates and packets
   * older than the last it delivered.
   */
  observe(key: string, seq: number): string | undefined {
    const prev = this.last.get(key);
    if (prev === undefined) {
      this.remember(key, seq);
      return undefined;
    }
    const d = seq32.diff(seq, prev);
    if (d === 1) {
      this.remember(key, seq);
      return undefined;
    }
    if (d > 1) {
      this.remember(key, seq);
      return `${d - 1} earlier packet${d === 2 ? '' : 's'} not seen (lost or reordered)`;
    }
    if (d === 0) return 'duplicate sequence number';
    return `late: ${-d} behind the highest sequence number seen`;
  }

  private remember(key: string, seq: number): void {
    this.last.delete(key);
    this.last.set(key, seq);
    if (this.last.size > this.maxCalls) this.last.delete(this.last.keys().next().value as string);
  }
}

/**
 * A packet cut by the capture's snap length: checked as if the missing
 * bytes were there (zeros in a copy), so every header rule still applies
 * and only the length is taken on trust. `undefined` when even the header
 * is not all there, or when the packet is malformed for another reason.
 */
function checkCut(bytes: Uint8Array): GreView | undefined {
  if (bytes.length < 8) return undefined;
  const plen = u16(bytes, 4);
  const whole = new Uint8Array(Math.max(bytes.length, 16 + plen));
  whole.set(bytes);
  try {
    const v = GreView.check(whole);
    return v.headerLength <= bytes.length ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The GRE layer, and the view and payload when the packet is acceptable
 * enhanced GRE. With `cut` (the frame is shorter than it was on the wire),
 * a Payload Length that runs past the captured bytes is expected: the
 * payload is what was captured.
 */
export function greLayer(
  bytes: Uint8Array,
  direction: string,
  tracker: GreSequenceTracker,
  cut = false,
): { layer: Layer; view?: GreView; payload?: Uint8Array } {
  let v: GreView;
  try {
    v = GreView.check(bytes);
  } catch (e) {
    const partial = cut ? checkCut(bytes) : undefined;
    if (!partial) return { layer: malformedLayer('GRE', e, bytes.subarray(0, 24), rawHeaderFields(bytes)) };
    v = partial;
  }
  const letters = flagLetters(bytes[0]!, bytes[1]!);
  const fields: Field[] = [
    shown('flags', letters.join(''), `[${letters.join(' ')}]`),
    hidden('version', 1),
    hidden('protocolType', 0x880b),
    kv('callId', v.callId, 'call ID'),
    kv('payloadLength', v.payloadLength, 'payload length'),
  ];
  let note: string | undefined;
  if (v.hasSequenceNumber) {
    fields.push(kv('sequenceNumber', v.sequenceNumber, 'seq'));
    note = tracker.observe(`${direction}#${v.callId}`, v.sequenceNumber);
  }
  if (v.hasAcknowledgmentNumber) fields.push(kv('acknowledgmentNumber', v.acknowledgmentNumber, 'ack'));
  fields.push(flag('acknowledgmentOnly', !v.hasSequenceNumber, '(ack only)'));
  const extra = v.bytes.length - v.payloadEnd;
  if (extra > 0) fields.push(kv('trailingBytes', extra, 'trailing', `${extra} bytes after the payload`));
  const layer: Layer = note ? { protocol: 'GRE', fields, note } : { protocol: 'GRE', fields };
  const payload = v.bytes === bytes ? v.payload : bytes.subarray(v.headerLength);
  return { layer, view: v, payload };
}
