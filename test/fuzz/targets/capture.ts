/** Fuzz targets for the capture readers, link layers and the display-side IP/TCP/UDP decoders. */
import {
  decodeIpv4Packet,
  decodeIpv6Packet,
  decodeTcpSegment,
  decodeUdpDatagram,
} from '../../../src/capture/inet.js';
import { decodeLinkFrame } from '../../../src/capture/link.js';
import { openCapture } from '../../../src/capture/open.js';
import { CaptureStreamReader } from '../../../src/capture/stream.js';
import type { CapturedPacket } from '../../../src/capture/types.js';
import { Dissector } from '../../../src/decode/dissector.js';
import { decodeCapture, packetJson, renderPacketText } from '../../../src/decode/index.js';
import { PptpStreamSplitter } from '../../../src/decode/pptp.js';
import type { DecodedPacket } from '../../../src/decode/tree.js';
import { concatBytes, fromHex } from '../../../src/wire/bytes.js';
import { fullSession } from '../../decode/fixtures.js';
import type { FuzzTarget } from '../mutate.js';

const IP4 = '45 00 00 1c 00 01 40 00 40 11 00 00 0a 00 00 01 0a 00 00 02 d4 31 00 35 00 08 00 00';
const IP6 = `60 00 00 00 00 18 00 40 ${'00'.repeat(15)}01 ${'00'.repeat(15)}02 2c 00 00 00 00 00 00 00 11 00 00 01 00 00 ab cd 00 35 00 35 00 08 00 00`;

const PCAP = fromHex(`
  d4 c3 b2 a1 02 00 04 00 00 00 00 00 00 00 00 00 00 00 04 00 65 00 00 00
  01 00 00 00 02 00 00 00 1c 00 00 00 1c 00 00 00 ${IP4}
  02 00 00 00 20 a1 07 00 02 00 00 00 3c 00 00 00 aa bb`);

const PCAPNG = fromHex(`
  0a 0d 0d 0a 1c 00 00 00 4d 3c 2b 1a 01 00 00 00 ff ff ff ff ff ff ff ff 1c 00 00 00
  01 00 00 00 20 00 00 00 01 00 00 00 00 00 00 00 09 00 01 00 09 00 00 00 00 00 00 00 20 00 00 00
  06 00 00 00 24 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 02 00 00 00 02 00 00 00 aa bb 00 00 24 00 00 00
  03 00 00 00 14 00 00 00 03 00 00 00 01 02 03 00 14 00 00 00`);

/** Reads every packet of a capture (the iterator may throw WireError part-way). */
function readAll(b: Uint8Array): number {
  let n = 0;
  for (const p of openCapture(b)) n += p.data.length;
  return n;
}

/**
 * The stream reader over the same bytes in chunks (sizes from the first
 * byte): every packet both readers give must be the same, in the same
 * order (the file reader checks a little more, e.g. the trailing length of
 * a skipped block, so it may stop earlier).
 */
function streamAgrees(b: Uint8Array): void {
  const file: CapturedPacket[] = [];
  try {
    for (const p of openCapture(b)) file.push(p);
  } catch {}
  const r = new CaptureStreamReader();
  const got: CapturedPacket[] = [];
  const size = 1 + ((b[0] ?? 0) % 61);
  for (let off = 0; off < b.length; off += size) got.push(...r.push(b.subarray(off, off + size)));
  try {
    r.end();
  } catch {}
  const n = Math.min(file.length, got.length);
  for (let i = 0; i < n; i++) {
    const f = file[i]!;
    const g = got[i]!;
    const same =
      f.frameNumber === g.frameNumber &&
      f.linkType === g.linkType &&
      f.originalLength === g.originalLength &&
      f.timestamp.seconds === g.timestamp.seconds &&
      f.timestamp.nanoseconds === g.timestamp.nanoseconds &&
      Buffer.from(f.data).equals(Buffer.from(g.data));
    if (!same) throw new Error(`stream reader differs from the file reader at packet ${i + 1}`);
  }
}

export const targets: FuzzTarget[] = [
  { name: 'capture file (pcap/pcapng)', decode: readAll, corpus: [PCAP, PCAPNG] },
  {
    name: 'capture stream (pcap/pcapng in chunks) = file reader',
    decode: streamAgrees,
    corpus: [PCAP, PCAPNG],
  },
  {
    name: 'link layer (every link type)',
    decode: (b) => {
      for (const lt of [0, 1, 12, 14, 101, 108, 113, 228, 229, 276]) decodeLinkFrame(lt, b, b[0]! & 4);
    },
    corpus: [
      fromHex(`001122334455 66778899aabb 8100 0001 0800 ${IP4}`),
      fromHex(`0004 0001 0006 525400123456 0000 0800 ${IP4}`),
      fromHex(`86dd 0000 00000003 0001 00 06 525400123456 0000 ${IP6}`),
    ],
  },
  { name: 'IPv4 (display)', decode: decodeIpv4Packet, corpus: [fromHex(IP4)] },
  { name: 'IPv6 (display)', decode: decodeIpv6Packet, corpus: [fromHex(IP6)] },
  {
    name: 'TCP (display)',
    decode: (b) => decodeTcpSegment(b, { sourceBytes: b.subarray(0, 4), destinationBytes: b.subarray(0, 4) }),
    corpus: [fromHex('c350 06bb 0000 0001 8000 0002 6012 ffff 0000 0000 0204 05b4 4142')],
  },
  {
    name: 'UDP (display)',
    decode: (b) =>
      decodeUdpDatagram(b, { sourceBytes: fromHex('0a000001'), destinationBytes: fromHex('0a000002') }),
    corpus: [fromHex('d431 0035 000b 0000 616263')],
  },
];

// ─── The whole dissector ────────────────────────────────────────────────────
// It must never throw, and no layer may report `internal-error` (a decoder
// throwing something other than WireError). Either is turned into a plain
// Error here, which the fuzz harness reports with the input.

const session = fullSession();
const rawFrames = session.frames.map((f) => f.packet);

function checkLayers(p: Pick<DecodedPacket, 'layers'> | undefined): void {
  for (const l of p?.layers ?? []) {
    if (l.malformed?.code === 'internal-error') throw new Error(`${l.protocol}: ${l.malformed.detail}`);
  }
}

/**
 * One dissector kept across inputs, so TCP reassembly and session state see
 * mutated streams too; with the RFC 2759 password the corpus's MS-CHAPv2
 * exchange unlocks MPPE decryption of mutated packets as well.
 */
let dissector = new Dissector({ all: true, password: 'clientPass' });
let frameNumber = 0;

/** The TCP 1723 bytes of the session, as one stream per direction. */
const streams = [true, false].map((fromPns) =>
  concatBytes(
    ...session.frames.filter((f) => f.fromPns === fromPns && f.pptp).map((f) => f.packet.subarray(40)),
  ),
);

targets.push(
  {
    name: 'PPTP stream splitter (mutated streams, cut in three)',
    decode: (b) => {
      const sp = new PptpStreamSplitter();
      const a = b.length >> 2;
      for (const chunk of [b.subarray(0, a), b.subarray(a, 3 * a), b.subarray(3 * a)]) {
        for (const item of sp.push(chunk)) checkLayers({ layers: [item.layer] });
        if (sp.buffered > 512) throw new Error(`splitter holds ${sp.buffered} bytes`);
      }
    },
    corpus: streams,
  },
  {
    name: 'dissector (raw IP frames, stateful)',
    decode: (b) => {
      if (++frameNumber % 5000 === 0) dissector = new Dissector({ all: true, password: 'clientPass' });
      const p = dissector.dissect({
        frameNumber,
        interfaceId: 0,
        linkType: 101,
        fcsLength: 0,
        timestamp: { seconds: frameNumber, nanoseconds: 0 },
        originalLength: b.length,
        data: b,
      });
      checkLayers(p);
      if (p) {
        renderPacketText(p);
        JSON.stringify(packetJson(p));
      }
    },
    corpus: rawFrames,
  },
  {
    name: 'dissector (frames cut by the snap length, stateful)',
    decode: (b) => {
      const p = dissector.dissect({
        frameNumber: ++frameNumber,
        interfaceId: 0,
        linkType: 101,
        fcsLength: 0,
        timestamp: { seconds: frameNumber, nanoseconds: 0 },
        originalLength: b.length + 1 + (b[0] ?? 0),
        data: b,
      });
      checkLayers(p);
      if (p) renderPacketText(p);
    },
    corpus: rawFrames.map((f) => f.subarray(0, Math.max(20, f.length - 17))),
  },
  {
    name: 'decodeCapture (mutated pcap files)',
    decode: (b) => {
      const cap = decodeCapture(b, { all: true });
      for (const p of cap) checkLayers(p);
    },
    corpus: [session.pcap('ethernet').subarray(0, 700), session.pcap('sll2').subarray(0, 600)],
  },
);
