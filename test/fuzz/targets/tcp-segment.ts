/**
 * Fuzz targets for the TUN offload code (io/tcp-segment*.ts): a virtio-net
 * header plus a packet, as a TUN read returns them, must be segmented (or
 * have its checksum completed) or be refused with WireError; the segments'
 * payloads must add up to the super-packet's. The coalescer must take any
 * bytes without throwing and never write outside its slots.
 */

import {
  completeChecksum,
  encodeVirtioNetHdr,
  GSO_MAX_HEADER_LENGTH,
  gsoSegment,
  newGsoLayout,
  plainVirtioNetHdr,
  readVirtioNetHdr,
  TCP_FLAG,
  VIRTIO_NET_HDR_LENGTH,
  VirtioNetGso,
  VirtioNetHdrFlag,
} from '../../../src/io/tcp-segment.js';
import { TcpCoalescer } from '../../../src/io/tcp-segment-coalesce.js';
import { WireError, WireErrorCode } from '../../../src/wire/errors.js';
import { patternBytes, tcpPacket, udpPacket, V4_FLOW, V6_FLOW } from '../../helpers/inet-packets.js';
import type { FuzzTarget } from '../mutate.js';

const hdr = plainVirtioNetHdr();
const layout = newGsoLayout();
const scratch = new Uint8Array(GSO_MAX_HEADER_LENGTH);

function segmentTunRead(b: Uint8Array): number {
  const h = readVirtioNetHdr(b, 0, hdr);
  const p = b.slice(VIRTIO_NET_HDR_LENGTH);
  if (h.gsoType === VirtioNetGso.None) {
    if (h.flags & VirtioNetHdrFlag.NeedsCsum) completeChecksum(p, h.csumStart, h.csumOffset);
    return 1;
  }
  let payload = 0;
  const n = gsoSegment(p, h, layout, scratch, (s) => {
    if (s.length > p.length) throw new Error('segment longer than the super-packet');
    payload += s.length - layout.headerLength;
  });
  if (payload !== p.length - layout.headerLength) {
    throw new Error(`segments carry ${payload} payload bytes of ${p.length - layout.headerLength}`);
  }
  return n;
}

function tunRead(gsoType: number, csumStart: number, csumOffset: number, gsoSize: number, p: Uint8Array) {
  const h = encodeVirtioNetHdr({ flags: 1, gsoType, hdrLen: 0, gsoSize, csumStart, csumOffset });
  const out = new Uint8Array(10 + p.length);
  out.set(h);
  out.set(p, 10);
  return out;
}

const tcp4 = tcpPacket(V4_FLOW, { seq: 1, ack: 2, flags: TCP_FLAG.ACK, payload: patternBytes(300, 1) });
const tcp6 = tcpPacket(V6_FLOW, {
  seq: 1,
  ack: 2,
  flags: TCP_FLAG.ACK | TCP_FLAG.PSH,
  payload: patternBytes(250, 2),
});
const udp4 = udpPacket(V4_FLOW, patternBytes(200, 3));

const slotSize = 2048;
const ring = new Uint8Array(slotSize * 8);
let used = 0;
const coalescer = new TcpCoalescer(
  {
    bytes: ring,
    slotSize,
    allocSlot: () => (used < 8 ? used++ : -1),
    setSlotLength: (i, len) => {
      if (i < 0 || i >= used || len < 0 || len > slotSize) throw new Error(`slot ${i} length ${len}`);
    },
  },
  { maxFlows: 4 },
);

/** Pushes the input and a copy of it shifted one segment on, as two packets of a batch. */
function coalesce(b: Uint8Array): boolean {
  used = 0;
  coalescer.push(b);
  const next = b.slice();
  if (next.length > 40) next[27] = (next[27]! + 1) & 0xff;
  coalescer.push(next);
  coalescer.finish();
  if (b.length === 0) throw new WireError(WireErrorCode.Truncated, 'empty');
  return true;
}

export const targets: FuzzTarget[] = [
  {
    name: 'TUN read with virtio-net header (GSO segmentation / checksum completion)',
    decode: segmentTunRead,
    corpus: [
      tunRead(VirtioNetGso.TcpV4, 20, 16, 100, tcp4),
      tunRead(VirtioNetGso.TcpV6, 40, 16, 64, tcp6),
      tunRead(VirtioNetGso.UdpL4, 20, 6, 50, udp4),
      tunRead(VirtioNetGso.None, 20, 16, 0, tcp4),
    ],
  },
  {
    name: 'TCP coalescer (GRO) input',
    decode: coalesce,
    corpus: [tcp4, tcp6, udp4],
  },
];
