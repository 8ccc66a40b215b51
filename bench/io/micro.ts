/**
 * CPU cost of the pure offload code, in one process, no kernel involved
 * (docs/performance.md):
 *
 *   node --import tsx bench/io/micro.ts [--ms 300] [--samples 5]
 *
 * - checksum: checksumAdd over 1448-byte and 64 KiB buffers (GB/s);
 * - segment: gsoSegment of a 64 KiB TCP super-packet into 1388-byte
 *   segments (ns per segment), the read side of TUN offload;
 * - coalesce: TcpCoalescer.push of 1388-byte segments of one flow plus
 *   finish() per 46 segments, with and without checksum verification (ns
 *   per segment), the write side;
 * - copy: a plain 1.4 KB Uint8Array.set, the floor any per-packet path pays.
 * Medians of several samples of CPU time; printed, never asserted.
 */
import {
  checksumAdd,
  GSO_MAX_HEADER_LENGTH,
  gsoSegment,
  newGsoLayout,
  TCP_FLAG,
  type VirtioNetHdr,
} from '../../src/io/tcp-segment.js';
import { TcpCoalescer, type TxSlots } from '../../src/io/tcp-segment-coalesce.js';
import { patternBytes, tcpPacket, timestampOption, V4_FLOW } from '../../test/helpers/inet-packets.js';
import { parseBenchArgs, wholeNumber } from '../args.js';

const MSS = 1388;

let SAMPLE_MS = 300;
let SAMPLES = 5;
for (const f of parseBenchArgs(process.argv.slice(2), { ms: 'string', samples: 'string' }).flags) {
  if (f.name === '--ms') SAMPLE_MS = wholeNumber(f, 1);
  else SAMPLES = wholeNumber(f, 1);
}

let sink = 0;

/**
 * Runs `fn` (which does `units` units of work) repeatedly; returns the median
 * ns of CPU time per unit. CPU time (process.cpuUsage), not wall time, so
 * that the figures survive a machine shared with other jobs.
 */
function measure(fn: () => void, units: number): number {
  for (let i = 0; i < 50; i++) fn();
  const per: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    let n = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    while (performance.now() - t0 < SAMPLE_MS) {
      for (let k = 0; k < 16; k++) fn();
      n += 16;
    }
    const c = process.cpuUsage(c0);
    per.push(((c.user + c.system) * 1e3) / (n * units));
  }
  per.sort((a, b) => a - b);
  return per[per.length >> 1]!;
}

const rows: [string, string][] = [];
function report(name: string, nsPerUnit: number, bytesPerUnit?: number): void {
  const extra = bytesPerUnit ? `, ${(bytesPerUnit / nsPerUnit).toFixed(2)} GB/s` : '';
  rows.push([name, `${nsPerUnit.toFixed(0)} ns${extra}`]);
  console.error(`${name}: ${nsPerUnit.toFixed(0)} ns${extra}`);
}

// checksum
const buf = patternBytes(70_000, 1);
report(
  'checksumAdd 1448 B',
  measure(() => (sink += checksumAdd(buf, 2, 1448)), 1),
  1448,
);
report(
  'checksumAdd 65000 B',
  measure(() => (sink += checksumAdd(buf, 0, 65_000)), 1),
  65_000,
);

// copy floor
const dst = new Uint8Array(4096);
const src = buf.subarray(10, 10 + 1440);
report(
  'Uint8Array.set 1440 B',
  measure(() => dst.set(src, 40), 1),
);

// segmentation
const payload = patternBytes(MSS * 46, 2);
const superPkt = tcpPacket(V4_FLOW, {
  seq: 1,
  ack: 1,
  flags: TCP_FLAG.ACK | TCP_FLAG.PSH,
  options: timestampOption(1, 2),
  payload,
});
const hdr: VirtioNetHdr = { flags: 1, gsoType: 1, hdrLen: 0, gsoSize: MSS, csumStart: 20, csumOffset: 16 };
const work = new Uint8Array(superPkt.length);
const layout = newGsoLayout();
const scratch = new Uint8Array(GSO_MAX_HEADER_LENGTH);
const emit = (s: Uint8Array) => {
  sink += s.length;
};
report(
  'gsoSegment, per 1388-byte segment (incl. restoring the input)',
  measure(() => {
    work.set(superPkt);
    gsoSegment(work, hdr, layout, scratch, emit);
  }, 46),
);
report(
  '  of which restoring the 64 KB input',
  measure(() => work.set(superPkt), 46),
);

// coalescing
// The segments sit in one buffer, as in a receive ring.
const ring = new Uint8Array(2048 * 46);
const segs: Uint8Array[] = [];
for (let i = 0; i < 46; i++) {
  const p = tcpPacket(
    { ...V4_FLOW, id: i },
    {
      seq: 1 + i * MSS,
      ack: 1,
      flags: TCP_FLAG.ACK,
      options: timestampOption(1, 2),
      payload: payload.subarray(i * MSS, (i + 1) * MSS),
    },
  );
  ring.set(p, i * 2048);
  segs.push(ring.subarray(i * 2048, i * 2048 + p.length));
}
for (const verifyChecksums of [true, false]) {
  const slotSize = 65536 + 128;
  const bytes = new Uint8Array(slotSize * 64);
  let used = 0;
  const slots: TxSlots = {
    bytes,
    slotSize,
    allocSlot: () => (used < 64 ? used++ : -1),
    setSlotLength: () => {},
  };
  const c = new TcpCoalescer(slots, { verifyChecksums });
  report(
    `TcpCoalescer.push per segment, verify ${verifyChecksums ? 'on' : 'off'}`,
    measure(() => {
      used = 0;
      for (const s of segs) c.push(s);
      c.finish();
    }, 46),
  );
}

console.log('| operation | cost |\n|---|---|');
for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
if (sink === 42) console.log('');
