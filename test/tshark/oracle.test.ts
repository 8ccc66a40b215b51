/**
 * tshark as an independent oracle (an independent check): a capture of every
 * message type, written with our encoders and our pcap writer, is decoded
 * by tshark (`-T json`) and by `pptp-ts decode`, and every field both show
 * must agree: frame times and lengths, outer IPv4, GRE, PPP, LCP/IPCP/
 * IPv6CP/CCP options, PAP, CHAP/MS-CHAPv2, the MPPE header, the inner
 * IPv4/UDP/DNS, TCP and all 15 PPTP control messages.
 *
 * tshark reading a file needs no root, so this runs in the unit suite. It
 * needs the Debian `tshark` package (which `.ci/run` installs); without it
 * the suite fails with the line that installs it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodePcap } from '../../src/capture/pcap.js';
import { decodeCapture, packetJson } from '../../src/decode/index.js';
import { fragmentIpv4, fullSession } from '../decode/fixtures.js';
import { requireTools } from '../helpers/tools.js';
import { type TsharkPacket, tsharkBytes, tsharkNumber, tsharkPackets } from '../helpers/tshark.js';

type Obj = Record<string, unknown>;

describe('tshark oracle: every field of every message type', () => {
  let dir: string;
  let ts: TsharkPacket[];
  let ours: Map<number, Obj>;
  const session = fullSession();

  before(() => {
    requireTools('tshark');
    dir = mkdtempSync(join(tmpdir(), `pptp-ts-tshark-${process.pid}-`));
    const file = join(dir, 'session.pcap');
    const bytes = session.pcap('ethernet');
    writeFileSync(file, bytes);
    ts = tsharkPackets(file, ['-x']);
    ours = new Map([...decodeCapture(bytes)].map((p) => [p.frameNumber, packetJson(p) as Obj]));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Our layers of a frame named `name`, in order. */
  const layersOf = (frame: number, name: string): Obj[] =>
    ((ours.get(frame)?.layers as Obj[] | undefined) ?? []).filter((l) => l.layer === name);

  /** Asserts tshark's values of `field` (as numbers) equal `expected`. */
  function sameNumbers(t: TsharkPacket, field: string, expected: unknown[], where: string): void {
    assert.deepEqual(t.all(field).map(tsharkNumber), expected, `${where}: ${field}`);
  }

  it('tshark sees the frames we wrote, with the same times and lengths', () => {
    assert.equal(ts.length, session.frames.length);
    for (const t of ts) {
      const n = Number(t.first('frame.number'));
      const o = ours.get(n);
      if (!o) continue; // the bare ACK we do not show
      assert.equal(t.first('frame.time_epoch'), o.epoch, `frame ${n}`);
      assert.equal(Number(t.first('frame.len')), o.length);
    }
    assert.equal(ours.size, session.frames.length - 1, 'every frame but the bare ACK');
  });

  it('outer and inner IPv4 headers: addresses, id, TTL, DF, protocol, checksum and its status', () => {
    let compared = 0;
    for (const t of ts) {
      const n = Number(t.first('frame.number'));
      const ip = layersOf(n, 'IPv4');
      if (!ip.length) continue;
      const where = `frame ${n}`;
      assert.deepEqual(
        t.all('ip.src'),
        ip.map((l) => l.source),
        where,
      );
      assert.deepEqual(
        t.all('ip.dst'),
        ip.map((l) => l.destination),
        where,
      );
      sameNumbers(
        t,
        'ip.id',
        ip.map((l) => l.identification),
        where,
      );
      sameNumbers(
        t,
        'ip.ttl',
        ip.map((l) => l.ttl),
        where,
      );
      sameNumbers(
        t,
        'ip.proto',
        ip.map((l) => l.protocol),
        where,
      );
      sameNumbers(
        t,
        'ip.len',
        ip.map((l) => l.totalLength),
        where,
      );
      sameNumbers(
        t,
        'ip.checksum',
        ip.map((l) => l.checksum),
        where,
      );
      assert.deepEqual(
        t.all('ip.flags.df').map((x) => x === '1'),
        ip.map((l) => l.dontFragment),
        where,
      );
      // Wireshark's checksum status: 1 good, 0 bad.
      assert.deepEqual(
        t.all('ip.checksum.status'),
        ip.map((l) => (l.checksumStatus === 'good' ? '1' : '0')),
        where,
      );
      compared += ip.length;
    }
    const inner = session.frames.filter((f) => f.pppProtocol === 0x0021).length;
    assert.equal(
      compared,
      session.frames.length - 1 + inner,
      'one outer header per shown frame, plus the tunnelled ones',
    );
  });

  it('GRE: flags, call ID, payload length, sequence and acknowledgment numbers (data and ack-only)', () => {
    let ackOnly = 0;
    for (const f of session.frames.keys()) {
      const n = f + 1;
      const [g] = layersOf(n, 'GRE');
      if (!g) continue;
      const t = ts[f]!;
      const where = `frame ${n}`;
      assert.equal(tsharkNumber(t.first('gre.key.call_id')), g.callId, where);
      assert.equal(tsharkNumber(t.first('gre.key.payload_length')), g.payloadLength, where);
      assert.equal(tsharkNumber(t.first('gre.sequence_number')), g.sequenceNumber, where);
      assert.equal(tsharkNumber(t.first('gre.ack_number')), g.acknowledgmentNumber, where);
      assert.equal(t.first('gre.flags.sequence_number') === '1', (g.flags as string).includes('S'), where);
      assert.equal(t.first('gre.flags.ack') === '1', (g.flags as string).includes('A'), where);
      assert.equal(tsharkNumber(t.first('gre.flags.version')), g.version, where);
      assert.equal(tsharkNumber(t.first('gre.proto')), g.protocolType, where);
      if (g.acknowledgmentOnly) ackOnly++;
    }
    assert.equal(ackOnly, 1);
  });

  it('PPP: address/control present or compressed, and the protocol', () => {
    for (const f of session.frames.keys()) {
      const [p] = layersOf(f + 1, 'PPP');
      if (!p) continue;
      const t = ts[f]!;
      assert.equal(tsharkNumber(t.first('ppp.protocol')), p.protocol, `frame ${f + 1}`);
      assert.equal(t.first('ppp.address') === '0xff', p.addressControl, `frame ${f + 1}`);
    }
  });

  /** Our options of a control-protocol layer. */
  const options = (l: Obj) => (l.options as Obj[] | undefined) ?? [];

  it('LCP, IPCP, IPv6CP and CCP: code, identifier, length and every option value', () => {
    const seen = new Set<string>();
    for (const f of session.frames.keys()) {
      const n = f + 1;
      const t = ts[f]!;
      for (const name of ['LCP', 'IPCP', 'IPv6CP', 'CCP']) {
        const [l] = layersOf(n, name);
        if (!l) continue;
        seen.add(name);
        const where = `frame ${n} ${name}`;
        assert.equal(tsharkNumber(t.first('ppp.code')), l.code, where);
        assert.equal(tsharkNumber(t.first('ppp.identifier')), l.identifier, where);
        assert.equal(tsharkNumber(t.first('ppp.length')), l.length, where);
        const prefix = name.toLowerCase();
        const typeField = name === 'IPv6CP' ? 'ipv6cp.opt.type' : `${prefix}.opt.type`;
        sameNumbers(
          t,
          typeField,
          options(l).map((o) => o.type),
          where,
        );
        const pick = (type: number, key: string) =>
          options(l)
            .filter((o) => o.type === type)
            .map((o) => o[key]);
        if (name === 'LCP') {
          sameNumbers(t, 'lcp.opt.mru', pick(1, 'mru'), where);
          sameNumbers(t, 'lcp.opt.asyncmap', pick(2, 'accm'), where);
          sameNumbers(t, 'lcp.opt.auth_protocol', pick(3, 'protocol'), where);
          sameNumbers(t, 'lcp.opt.algorithm', pick(3, 'algorithm'), where);
          sameNumbers(t, 'lcp.opt.magic_number', pick(5, 'magicNumber'), where);
          if (l.magicNumber !== undefined)
            assert.equal(tsharkNumber(t.first('lcp.magic_number')), l.magicNumber, where);
          assert.equal(t.first('lcp.message'), l.message, where);
          assert.equal(tsharkNumber(t.first('lcp.secs_remaining')), l.secondsRemaining, where);
          assert.equal(tsharkNumber(t.first('lcp.rej_proto')), l.rejectedProtocol, where);
        } else if (name === 'IPCP') {
          assert.deepEqual(t.all('ipcp.opt.ip_address'), pick(3, 'address'), where);
          assert.deepEqual(t.all('ipcp.opt.pri_dns_address'), pick(129, 'address'), where);
          assert.deepEqual(t.all('ipcp.opt.sec_dns_address'), pick(131, 'address'), where);
          sameNumbers(t, 'ipcp.opt.compress_proto', pick(2, 'protocol'), where);
          sameNumbers(t, 'ipcp.opt.max_slot_id', pick(2, 'maxSlotId'), where);
          sameNumbers(t, 'ipcp.opt.comp_slot_id', pick(2, 'compSlotId'), where);
        } else if (name === 'IPv6CP') {
          assert.deepEqual(
            t.all('ipv6cp.interface_identifier').map(tsharkBytes),
            pick(1, 'interfaceIdentifier').map((s) => (s as string).replaceAll(':', '')),
            where,
          );
        } else {
          sameNumbers(t, 'ccp.opt.supported_bits', pick(18, 'supportedBits'), where);
          const bit = (b: string) => t.all(`ccp.opt.supported_bits.${b}`).map((x) => x === '1');
          assert.deepEqual(bit('h'), pick(18, 'stateless'), where);
          assert.deepEqual(bit('s'), pick(18, 'key128'), where);
          assert.deepEqual(bit('m'), pick(18, 'key56'), where);
          assert.deepEqual(bit('l'), pick(18, 'key40'), where);
          assert.deepEqual(bit('c'), pick(18, 'mppc'), where);
        }
      }
    }
    assert.deepEqual([...seen].sort(), ['CCP', 'IPCP', 'IPv6CP', 'LCP']);
  });

  it('PAP and CHAP (MS-CHAPv2 Challenge, Response, Success, Failure)', () => {
    const codes = { chap: new Set<number>(), pap: new Set<number>() };
    for (const f of session.frames.keys()) {
      const n = f + 1;
      const t = ts[f]!;
      const where = `frame ${n}`;
      const [pap] = layersOf(n, 'PAP');
      if (pap) {
        codes.pap.add(pap.code as number);
        assert.equal(tsharkNumber(t.first('pap.code')), pap.code, where);
        assert.equal(tsharkNumber(t.first('pap.identifier')), pap.identifier, where);
        assert.equal(tsharkNumber(t.first('pap.length')), pap.length, where);
        assert.equal(t.first('pap.peer_id'), pap.peerId, where);
        assert.equal(tsharkNumber(t.first('pap.password.length')), pap.passwordLength, where);
        assert.equal(t.first('pap.message'), pap.message, where);
      }
      const [chap] = layersOf(n, 'CHAP');
      if (!chap) continue;
      codes.chap.add(chap.code as number);
      assert.equal(tsharkNumber(t.first('chap.code')), chap.code, where);
      assert.equal(tsharkNumber(t.first('chap.identifier')), chap.identifier, where);
      assert.equal(tsharkNumber(t.first('chap.length')), chap.length, where);
      assert.equal(t.first('chap.name'), chap.name, where);
      const value = tsharkBytes(t.first('chap.value'));
      if (chap.code === 1) assert.equal(value, chap.value, where);
      if (chap.code === 2) {
        const r = chap.msChapV2Response as Obj;
        // RFC 2759 §4: Peer-Challenge (16), Reserved (8), NT-Response (24), Flags (1).
        assert.equal(value?.slice(0, 32), r.peerChallenge, where);
        assert.equal(value?.slice(48, 96), r.ntResponse, where);
        assert.equal(Number.parseInt(value!.slice(96), 16), r.flags, where);
      }
      const msg = t.first('chap.message');
      if (chap.code === 3) {
        assert.equal(
          msg,
          `S=${(chap.authenticatorResponse as string).toUpperCase()} M=${chap.message}`,
          where,
        );
      }
      if (chap.code === 4) {
        assert.match(
          msg!,
          new RegExp(
            `^E=${chap.error} R=${chap.retry ? 1 : 0} C=${(chap.challenge as string).toUpperCase()} V=${chap.passwordChangeVersion} M=${chap.message}$`,
          ),
        );
      }
    }
    assert.deepEqual([...codes.chap].sort(), [1, 2, 3, 4]);
    assert.deepEqual([...codes.pap].sort(), [1, 2, 3]);
  });

  it('MPPE header: where tshark says the compressed datagram starts, our bits and coherency count read it', () => {
    let n = 0;
    for (const f of session.frames.keys()) {
      const [m] = layersOf(f + 1, 'MPPE');
      if (!m) continue;
      n++;
      const raw = ts[f]!.first('comp_data_raw');
      assert.ok(raw, `frame ${f + 1}: tshark has no PPP Compressed Datagram`);
      // RFC 3078 §3.1: A B C D bits, then the 12-bit coherency count.
      const word = Number.parseInt(raw.slice(0, 4), 16);
      assert.equal(word & 0x0fff, m.coherencyCount);
      assert.equal((word & 0x8000) !== 0, m.flushed);
      assert.equal((word & 0x1000) !== 0, m.encrypted);
      assert.equal((word & 0x2000) !== 0, m.compressed);
    }
    assert.equal(n, 2);
  });

  it('the DNS query and response inside the tunnel: UDP, id, flags, question, answers', () => {
    let n = 0;
    for (const f of session.frames.keys()) {
      const [dns] = layersOf(f + 1, 'DNS');
      if (!dns) continue;
      n++;
      const t = ts[f]!;
      const [udp] = layersOf(f + 1, 'UDP');
      const where = `frame ${f + 1}`;
      assert.equal(tsharkNumber(t.first('udp.srcport')), udp!.sourcePort, where);
      assert.equal(tsharkNumber(t.first('udp.dstport')), udp!.destinationPort, where);
      assert.equal(tsharkNumber(t.first('udp.length')), udp!.length, where);
      assert.equal(tsharkNumber(t.first('udp.checksum')), udp!.checksum, where);
      assert.equal(t.first('udp.checksum.status'), udp!.checksumStatus === 'good' ? '1' : '0', where);
      assert.equal(tsharkNumber(t.first('dns.id')), dns.id, where);
      assert.equal(t.first('dns.flags.response') === '1', dns.type === 'response', where);
      assert.equal(t.first('dns.flags.recdesired') === '1', dns.recursionDesired, where);
      assert.equal(t.first('dns.flags.recavail') === '1', dns.recursionAvailable, where);
      assert.deepEqual(
        t.all('dns.qry.name'),
        (dns.questions as Obj[]).map((q) => q.name),
        where,
      );
      const answers = dns.answers as Obj[];
      assert.deepEqual(
        t.all('dns.resp.name'),
        answers.map((a) => a.name),
        where,
      );
      sameNumbers(
        t,
        'dns.resp.ttl',
        answers.map((a) => a.ttl),
        where,
      );
      assert.deepEqual(
        t.all('dns.a'),
        answers.filter((a) => a.type === 'A').map((a) => a.data),
        where,
      );
      assert.deepEqual(
        t.all('dns.cname'),
        answers.filter((a) => a.type === 'CNAME').map((a) => a.data),
        where,
      );
    }
    assert.equal(n, 2);
  });

  it('ICMP and ICMPv6 over IPv6 inside the tunnel: types, codes, checksums, echo identifiers', () => {
    const seen: string[] = [];
    for (const f of session.frames.keys()) {
      const n = f + 1;
      const t = ts[f]!;
      const where = `frame ${n}`;
      const [v6] = layersOf(n, 'IPv6');
      if (v6) {
        assert.equal(t.first('ipv6.src'), v6.source, where);
        assert.equal(t.first('ipv6.dst'), v6.destination, where);
        assert.equal(tsharkNumber(t.first('ipv6.hlim')), v6.hopLimit, where);
        assert.equal(tsharkNumber(t.first('ipv6.nxt')), v6.nextHeader, where);
        assert.equal(tsharkNumber(t.first('ipv6.plen')), v6.payloadLength, where);
      }
      for (const [name, prefix, id, seq] of [
        ['ICMP', 'icmp', 'icmp.ident', 'icmp.seq'],
        ['ICMPv6', 'icmpv6', 'icmpv6.echo.identifier', 'icmpv6.echo.sequence_number'],
      ] as const) {
        const [icmp] = layersOf(n, name);
        if (!icmp) continue;
        seen.push(`${name} ${icmp.type}`);
        assert.equal(tsharkNumber(t.first(`${prefix}.type`)), icmp.type, where);
        assert.equal(tsharkNumber(t.first(`${prefix}.code`)), icmp.code, where);
        assert.equal(tsharkNumber(t.first(`${prefix}.checksum`)), icmp.checksum, where);
        assert.equal(t.first(`${prefix}.checksum.status`), icmp.checksumStatus === 'good' ? '1' : '0', where);
        assert.equal(tsharkNumber(t.first(id)), icmp.identifier, where);
        assert.equal(tsharkNumber(t.first(seq)), icmp.sequenceNumber, where);
      }
    }
    assert.deepEqual(seen, ['ICMP 8', 'ICMP 0', 'ICMPv6 128']);
  });

  it('TCP 1723: ports, raw sequence and acknowledgment numbers, flags, length, checksum status', () => {
    for (const f of session.frames.keys()) {
      const [tcp] = layersOf(f + 1, 'TCP');
      if (!tcp) continue;
      const t = ts[f]!;
      const where = `frame ${f + 1}`;
      assert.equal(tsharkNumber(t.first('tcp.srcport')), tcp.sourcePort, where);
      assert.equal(tsharkNumber(t.first('tcp.dstport')), tcp.destinationPort, where);
      assert.equal(tsharkNumber(t.first('tcp.seq_raw')), tcp.sequenceNumber, where);
      if (tcp.acknowledgmentNumber !== undefined)
        assert.equal(tsharkNumber(t.first('tcp.ack_raw')), tcp.acknowledgmentNumber, where);
      assert.equal(tsharkNumber(t.first('tcp.len')), tcp.payloadLength, where);
      assert.equal(t.first('tcp.checksum.status'), tcp.checksumStatus === 'good' ? '1' : '0', where);
      const flags = (tcp.flags as string).split(',');
      for (const [mine, theirs] of [
        ['SYN', 'syn'],
        ['FIN', 'fin'],
        ['ACK', 'ack'],
        ['PSH', 'push'],
        ['RST', 'reset'],
      ] as const) {
        assert.equal(t.first(`tcp.flags.${theirs}`) === '1', flags.includes(mine), `${where} ${mine}`);
      }
    }
  });

  it('IPv4 fragments: reassembled in the same frame as tshark reassembles them, to the same GRE packet', () => {
    // The DNS response's GRE datagram, fragmented in 3 and sent last fragment first.
    const f = session.frames.find((x) => x.label === 'DNS response')!;
    const parts = fragmentIpv4(f.packet, 48).reverse();
    const file = join(dir, 'fragments.pcap');
    writeFileSync(
      file,
      encodePcap(
        parts.map((data, i) => ({ timestamp: { seconds: 100 + i, nanoseconds: 0 }, data })),
        { linkType: 101 },
      ),
    );
    const t = tsharkPackets(file);
    const mine = [...decodeCapture(readFileSync(file))].map((p) => packetJson(p) as Obj);
    const tsharkDone = t.findIndex((p) => p.protocols.includes('gre'));
    const ourDone = mine.findIndex((p) => (p.layers as Obj[]).some((l) => l.layer === 'GRE'));
    assert.equal(ourDone, tsharkDone);
    assert.equal(ourDone, parts.length - 1);
    const g = (mine[ourDone]!.layers as Obj[]).find((l) => l.layer === 'GRE')!;
    assert.equal(tsharkNumber(t[tsharkDone]!.first('gre.key.call_id')), g.callId);
    assert.equal(tsharkNumber(t[tsharkDone]!.first('gre.sequence_number')), g.sequenceNumber);
    assert.deepEqual(t[tsharkDone]!.all('dns.a'), ['93.184.216.34']);
  });

  it('all 15 PPTP control messages, every field', () => {
    // Our JSON key → tshark field, per message where tshark names differ by type.
    const resultField: Record<number, string> = {
      2: 'pptp.control_result',
      4: 'pptp.stop_result',
      6: 'pptp.echo_result',
      8: 'pptp.out_result',
      10: 'pptp.in_result',
      13: 'pptp.disc_result',
    };
    const fieldOf = (type: number, key: string): string | undefined =>
      ({
        protocolVersion: 'pptp.protocol_version',
        framingCapabilities: 'pptp.framing_capabilities',
        bearerCapabilities: 'pptp.bearer_capabilities',
        maximumChannels: 'pptp.maximum_channels',
        firmwareRevision: 'pptp.firmware_revision',
        hostName: 'pptp.host_name',
        vendorString: 'pptp.vendor_name',
        resultCode: resultField[type],
        errorCode: 'pptp.error',
        reason: 'pptp.reason',
        identifier: 'pptp.identifier',
        callId: 'pptp.call_id',
        callSerialNumber: 'pptp.call_serial_number',
        minimumBps: 'pptp.minimum_bps',
        maximumBps: 'pptp.maximum_bps',
        bearerType: 'pptp.bearer_type',
        callBearerType: 'pptp.bearer_type',
        framingType: 'pptp.framing_type',
        packetRecvWindowSize: 'pptp.packet_receive_window_size',
        // tshark 4.0 labels ICRP/ICCN's Packet Transmit Delay with its processing-delay field
        packetProcessingDelay: 'pptp.packet_processing_delay',
        packetTransmitDelay: 'pptp.packet_processing_delay',
        phoneNumberLength: 'pptp.phone_number_length',
        phoneNumber: 'pptp.phone_number',
        subaddress: 'pptp.subaddress',
        peerCallId: 'pptp.peer_call_id',
        causeCode: 'pptp.cause',
        connectSpeed: 'pptp.connect_speed',
        physicalChannelId: 'pptp.physical_channel_id',
        dialedNumberLength: 'pptp.dialed_number_length',
        dialingNumberLength: 'pptp.dialing_number_length',
        dialedNumber: 'pptp.dialed_number',
        dialingNumber: 'pptp.dialing_number',
        callStatistics: 'pptp.call_Statistics',
        crcErrors: 'pptp.crc_errors',
        framingErrors: 'pptp.framing_errors',
        hardwareOverruns: 'pptp.hardware_overruns',
        bufferOverruns: 'pptp.buffer_overruns',
        timeoutErrors: 'pptp.timeout_errors',
        alignmentErrors: 'pptp.alignment_errors',
        sendAccm: 'pptp.send_accm',
        receiveAccm: 'pptp.receive_accm',
        length: 'pptp.length',
        messageType: 'pptp.control_message_type',
        pptpMessageType: 'pptp.type',
        magicCookie: 'pptp.magic_cookie',
      })[key];
    const types = new Set<number>();
    let fields = 0;
    for (const f of session.frames.keys()) {
      const msgs = layersOf(f + 1, 'PPTP');
      if (!msgs.length) continue;
      const t = ts[f]!;
      assert.equal(msgs.length, 1, 'one message per segment in this capture');
      const m = msgs[0]!;
      const type = m.messageType as number;
      types.add(type);
      for (const [key, v] of Object.entries(m)) {
        if (key === 'layer' || key === 'name') continue;
        const field = fieldOf(type, key);
        assert.ok(field, `no tshark field for our ${key}`);
        const theirs = t.first(field);
        const where = `frame ${f + 1} ${m.name} ${key}`;
        if (typeof v === 'string') assert.equal(theirs ?? '', v, where);
        else assert.equal(tsharkNumber(theirs), v, where);
        fields++;
      }
    }
    assert.equal(types.size, 15);
    assert.ok(fields > 130, `${fields} fields compared`);
  });
});
