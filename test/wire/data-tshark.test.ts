/**
 * tshark as an independent oracle for the data path (an independent check):
 * the scapy vectors and packets built by our own encoders and GRE channel
 * are written to a raw-IP pcap, decoded by tshark, and tshark's fields are
 * compared with ours. Skipped (visibly) when tshark is not installed; CI
 * installs it (.ci/run).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { GreChannel } from '../../src/pptp/gre-channel.js';
import { GreDemux } from '../../src/pptp/gre-demux.js';
import { fromHex, ipv4ToString } from '../../src/wire/bytes.js';
import { decodeGrePacket } from '../../src/wire/gre.js';
import { decodeIpv4Packet, IpProtocol, writeIpv4Header } from '../../src/wire/ipv4.js';
import { PppFrameView } from '../../src/wire/ppp.js';
import { requireTools } from '../helpers/tools.js';

/** A classic pcap with link type 101 (raw IPv4). */
function pcap(packets: Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const g = new DataView(new ArrayBuffer(24));
  g.setUint32(0, 0xa1b2c3d4, true);
  g.setUint16(4, 2, true);
  g.setUint16(6, 4, true);
  g.setUint32(16, 65535, true);
  g.setUint32(20, 101, true);
  parts.push(new Uint8Array(g.buffer));
  packets.forEach((p, i) => {
    const h = new DataView(new ArrayBuffer(16));
    h.setUint32(0, 1_700_000_000 + i, true);
    h.setUint32(8, p.length, true);
    h.setUint32(12, p.length, true);
    parts.push(new Uint8Array(h.buffer), p);
  });
  return Buffer.concat(parts);
}

const FIELDS = [
  'ip.src',
  'ip.dst',
  'ip.id',
  'ip.ttl',
  'ip.flags.df',
  'ip.proto',
  'ip.len',
  'ip.checksum.status',
  'gre.flags.sequence_number',
  'gre.flags.ack',
  'gre.flags.version',
  'gre.key.payload_length',
  'gre.key.call_id',
  'gre.sequence_number',
  'gre.ack_number',
  'ppp.address',
  'ppp.protocol',
] as const;

function tshark(packets: Uint8Array[]): Record<(typeof FIELDS)[number], string>[] {
  const dir = mkdtempSync(join(tmpdir(), `pptp-ts-data-${process.pid}-`));
  try {
    const file = join(dir, 'data.pcap');
    writeFileSync(file, pcap(packets));
    const args = [
      '-r',
      file,
      '-o',
      'ip.check_checksum:TRUE',
      '-T',
      'fields',
      '-E',
      'separator=\t',
      '-E',
      'occurrence=f',
    ];
    for (const f of FIELDS) args.push('-e', f);
    const r = spawnSync('tshark', args, { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout
      .trimEnd()
      .split('\n')
      .map((line) => {
        const cells = line.split('\t');
        return Object.fromEntries(FIELDS.map((f, i) => [f, cells[i] ?? ''])) as Record<
          (typeof FIELDS)[number],
          string
        >;
      });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Builds the packets: one scapy GRE vector plus what a GRE channel transmits. */
function packets(): Uint8Array[] {
  // scapy's GRE_PPTP vector (S=1, A=1, LCP Echo-Request) in an outer header.
  const scapyGre = fromHex('3081880b000c40000000000700000003ff03c0210901000812345678');
  const first = new Uint8Array(20 + scapyGre.length);
  writeIpv4Header(first, 0, scapyGre.length, 0x1c46, true, 64, IpProtocol.Gre, 0xc0000201, 0xc6336407);
  first.set(scapyGre, 20);
  const out: Uint8Array[] = [first];
  const ch = new GreChannel(
    {
      localAddress: 0xc0000201,
      peerAddress: 0xc6336401,
      callId: 0x4000,
      peerCallId: 0xbeef,
      initialSequenceNumber: 0xfffffffe,
      initialIdentification: 0x7000,
      timeToLive: 128,
    },
    { transmit: (p) => out.push(p.slice()), deliver: () => {} },
  );
  // LCP Configure-Request (never compressed), then IPv4 with ACFC+PFC.
  ch.send({ protocol: 0xc021, payload: fromHex('0101000a010405dc0000') }, 0);
  ch.setFraming({ acfc: true, pfc: true });
  ch.send({ protocol: 0x0021, payload: fromHex('4500001400000000401100000a0000010a000002') }, 0);
  // Receive something so the next packets acknowledge it: first an
  // acknowledgment piggy-backed on data, then an ack-only packet.
  const demux = new GreDemux();
  demux.add(ch);
  const incoming = (seq: number) => {
    const gre = fromHex(`3001880b00084000${seq.toString(16).padStart(8, '0')}ff03002145000000`);
    const b = new Uint8Array(20 + gre.length);
    writeIpv4Header(b, 0, gre.length, 1, true, 64, IpProtocol.Gre, 0xc6336401, 0xc0000201);
    b.set(gre, 20);
    return b;
  };
  demux.receive(incoming(5), 0);
  ch.send({ protocol: 0x0021, payload: fromHex('4500001400000000401100000a0000010a000002') }, 1);
  demux.receive(incoming(6), 2);
  ch.poll(1000);
  return out;
}

describe('tshark oracle for IPv4/GRE/PPP', () => {
  before(() => requireTools('tshark'));
  it('decodes our packets with the same field values', () => {
    const pkts = packets();
    // Negative control: the same first packet with one header bit flipped
    // must be flagged as a bad checksum, or the oracle proves nothing.
    const bad = pkts[0]!.slice();
    bad[8] = bad[8]! ^ 1;
    const rows = tshark([...pkts, bad]);
    assert.equal(rows.length, pkts.length + 1);
    assert.equal(rows[pkts.length]!['ip.checksum.status'], '0', 'tshark flags a bad checksum');
    // scapy vector, LCP, IPv4 (ACFC+PFC), IPv4 with a piggy-backed ack, ack-only.
    assert.equal(pkts.length, 5);
    assert.equal(rows[3]!['gre.ack_number'], '5');
    assert.equal(rows[4]!['gre.flags.sequence_number'], '0');
    assert.equal(rows[4]!['gre.ack_number'], '6');
    for (const [i, p] of pkts.entries()) {
      const ip = decodeIpv4Packet(p);
      const gre = decodeGrePacket(ip.payload);
      const row = rows[i]!;
      const at = `packet ${i}`;
      assert.equal(row['ip.src'], ipv4ToString(ip.sourceAddress), at);
      assert.equal(row['ip.dst'], ipv4ToString(ip.destinationAddress), at);
      assert.equal(Number(row['ip.id']), ip.identification, at);
      assert.equal(Number(row['ip.ttl']), ip.timeToLive, at);
      assert.equal(row['ip.flags.df'] === '1' || row['ip.flags.df'] === 'True', ip.dontFragment, at);
      assert.equal(Number(row['ip.proto']), 47, at);
      assert.equal(Number(row['ip.len']), p.length, at);
      assert.equal(row['ip.checksum.status'], '1', `${at}: tshark says the checksum is good`);
      assert.equal(Number(row['gre.flags.version']), 1, at);
      assert.equal(Number(row['gre.key.payload_length']), gre.payload.length, at);
      assert.equal(Number(row['gre.key.call_id']), gre.callId, at);
      assert.equal(
        row['gre.sequence_number'] === '' ? undefined : Number(row['gre.sequence_number']),
        gre.sequenceNumber,
        at,
      );
      assert.equal(
        row['gre.ack_number'] === '' ? undefined : Number(row['gre.ack_number']),
        gre.acknowledgmentNumber,
        at,
      );
      if (gre.payload.length > 0) {
        const v = PppFrameView.check(gre.payload);
        assert.equal(Number(row['ppp.protocol']), v.protocol, at);
        assert.equal(row['ppp.address'] !== '', v.hasAddressControl, `${at}: address field present`);
      }
    }
  });
});
