/**
 * What `pptp-ts demo` tells from a capture (src/cli/demo/story.ts,
 * format.ts), on a session built here with the stack's own encoders: TCP to
 * port 1723, SCCRQ/SCCRP, OCRQ/OCRP, LCP asking for MS-CHAPv2, the RFC 2759
 * §9.2 exchange, CCP agreeing on MPPE-128 stateless, IPCP handing out an
 * address and DNS, then a DNS query and its answer encrypted by the stack's
 * MPPE engine, LCP echoes, an ack-only packet, and the teardown. The
 * expected values are the ones this file put in; the story has to find
 * them through `pptp-ts decode`'s dissector (with the password, so the
 * DNS exchange is decrypted). No root needed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import { dataSentence, factRows, timelineLines } from '../../src/cli/demo/format.js';
import { tellStory } from '../../src/cli/demo/story.js';
import { mppeKeysFromMsChapV2 } from '../../src/crypto/mppe-keys.js';
import { ntPasswordHash } from '../../src/crypto/mschap.js';
import { decodeCapture } from '../../src/decode/index.js';
import type { DecodedPacket } from '../../src/decode/tree.js';
import { MppeEncryptor } from '../../src/mppe/mppe.js';
import { parseIpv4, utf8 } from '../../src/wire/bytes.js';
import { encodeCcpOption, encodeCcpPacket, mppeOptionFromBits } from '../../src/wire/ccp.js';
import { encodeChapPacket } from '../../src/wire/chap.js';
import { encodeIpcpOption, encodeIpcpPacket } from '../../src/wire/ipcp.js';
import { authProtocolOption, encodeLcpOption, encodeLcpPacket, type LcpOption } from '../../src/wire/lcp.js';
import { encodeMsChapV2Response, formatMsChapV2Success } from '../../src/wire/mschap.js';
import { PppProtocol } from '../../src/wire/ppp.js';
import { PptpMessageType as T } from '../../src/wire/pptp/index.js';
import {
  ipv4,
  PAC,
  PAC_CALL_ID,
  PNS,
  PNS_CALL_ID,
  RFC2759,
  ScenarioBuilder,
  udp,
} from '../decode/fixtures.js';

const PASSWORD = 'clientPass'; // RFC 2759 §9.2
const CLIENT_IP = '10.99.0.10';
const SERVER_IP = '10.99.0.1';
const DNS_IP = '10.88.0.53';
const NAME = 'www.example.test';

const lcp = (kind: 'configure-request' | 'configure-ack', identifier: number, o: LcpOption[]) =>
  encodeLcpPacket({ kind, identifier, options: o.map(encodeLcpOption) });

/** The session described in the module comment. `answerId` lets a test break the DNS ID match. */
function demoSession(answerId = 0x2c88): ScenarioBuilder {
  const s = new ScenarioBuilder();
  s.tcpHandshake();
  s.control(true, {
    type: T.StartControlConnectionRequest,
    protocolVersion: 0x0100,
    framingCapabilities: 1,
    bearerCapabilities: 1,
    maximumChannels: 0,
    firmwareRevision: 1,
    hostName: 'client',
    vendorString: 'pptp-ts',
  });
  s.control(false, {
    type: T.StartControlConnectionReply,
    protocolVersion: 0x0100,
    resultCode: 1,
    errorCode: 0,
    framingCapabilities: 1,
    bearerCapabilities: 1,
    maximumChannels: 0,
    firmwareRevision: 1,
    hostName: 'server',
    vendorString: 'pptp-ts',
  });
  s.control(true, {
    type: T.OutgoingCallRequest,
    callId: PNS_CALL_ID,
    callSerialNumber: 1,
    minimumBps: 300,
    maximumBps: 100_000_000,
    bearerType: 3,
    framingType: 3,
    packetRecvWindowSize: 64,
    packetProcessingDelay: 0,
    phoneNumberLength: 0,
    phoneNumber: '',
    subaddress: '',
  });
  s.control(false, {
    type: T.OutgoingCallReply,
    callId: PAC_CALL_ID,
    peerCallId: PNS_CALL_ID,
    resultCode: 1,
    errorCode: 0,
    causeCode: 0,
    connectSpeed: 100_000_000,
    packetRecvWindowSize: 64,
    packetProcessingDelay: 0,
    physicalChannelId: 0,
  });
  const serverLcp: LcpOption[] = [
    { kind: 'mru', mru: 1460 },
    authProtocolOption('mschap-v2'),
    { kind: 'magic-number', magicNumber: 0xe615ff09 },
  ];
  const clientLcp: LcpOption[] = [
    { kind: 'mru', mru: 1450 },
    { kind: 'magic-number', magicNumber: 0x9905da02 },
  ];
  s.pppFrame(false, PppProtocol.Lcp, lcp('configure-request', 1, serverLcp), 'LCP req (server)');
  s.pppFrame(true, PppProtocol.Lcp, lcp('configure-request', 1, clientLcp), 'LCP req (client)');
  s.pppFrame(false, PppProtocol.Lcp, lcp('configure-ack', 1, clientLcp), 'LCP ack (server)');
  s.pppFrame(true, PppProtocol.Lcp, lcp('configure-ack', 1, serverLcp), 'LCP ack (client)');
  // LCP keep-alive: not part of the handshake.
  s.pppFrame(
    false,
    PppProtocol.Lcp,
    encodeLcpPacket({
      kind: 'echo-request',
      identifier: 2,
      magicNumber: 0xe615ff09,
      data: new Uint8Array(0),
    }),
    'LCP echo',
  );
  s.pppFrame(
    false,
    PppProtocol.Chap,
    encodeChapPacket({
      kind: 'challenge',
      identifier: 1,
      value: RFC2759.authenticatorChallenge,
      name: utf8('pptp-ts'),
    }),
    'Challenge',
  );
  s.pppFrame(
    true,
    PppProtocol.Chap,
    encodeChapPacket({
      kind: 'response',
      identifier: 1,
      value: encodeMsChapV2Response({
        peerChallenge: RFC2759.peerChallenge,
        reserved: new Uint8Array(8),
        ntResponse: RFC2759.ntResponse,
        flags: 0,
      }),
      name: utf8(RFC2759.user),
    }),
    'Response',
  );
  s.pppFrame(
    false,
    PppProtocol.Chap,
    encodeChapPacket({
      kind: 'success',
      identifier: 1,
      message: formatMsChapV2Success({
        authenticatorResponse: RFC2759.authenticatorResponse,
        message: 'Access granted',
      }),
    }),
    'Success',
  );
  const mppe = encodeCcpOption(mppeOptionFromBits(0x01000040)); // H + S: stateless, 128-bit
  for (const fromPns of [true, false]) {
    s.pppFrame(
      fromPns,
      PppProtocol.Ccp,
      encodeCcpPacket({ kind: 'configure-request', identifier: 1, options: [mppe] }),
      'CCP req',
    );
    s.pppFrame(
      !fromPns,
      PppProtocol.Ccp,
      encodeCcpPacket({ kind: 'configure-ack', identifier: 1, options: [mppe] }),
      'CCP ack',
    );
  }
  const ip = (a: string) => parseIpv4(a)!;
  const serverIpcp = [encodeIpcpOption({ kind: 'ip-address', address: ip(SERVER_IP) })];
  const asked = [
    encodeIpcpOption({ kind: 'ip-address', address: 0 }),
    encodeIpcpOption({ kind: 'primary-dns', address: 0 }),
  ];
  const given = [
    encodeIpcpOption({ kind: 'ip-address', address: ip(CLIENT_IP) }),
    encodeIpcpOption({ kind: 'primary-dns', address: ip(DNS_IP) }),
  ];
  const ipcp = (
    kind: 'configure-request' | 'configure-ack' | 'configure-nak',
    id: number,
    options: typeof asked,
  ) => encodeIpcpPacket({ kind, identifier: id, options });
  s.pppFrame(false, PppProtocol.Ipcp, ipcp('configure-request', 1, serverIpcp), 'IPCP req (server)');
  s.pppFrame(true, PppProtocol.Ipcp, ipcp('configure-ack', 1, serverIpcp), 'IPCP ack (client)');
  s.pppFrame(true, PppProtocol.Ipcp, ipcp('configure-request', 1, asked), 'IPCP req (client)');
  s.pppFrame(false, PppProtocol.Ipcp, ipcp('configure-nak', 1, given), 'IPCP nak');
  s.pppFrame(true, PppProtocol.Ipcp, ipcp('configure-request', 2, given), 'IPCP req 2 (client)');
  s.pppFrame(false, PppProtocol.Ipcp, ipcp('configure-ack', 2, given), 'IPCP ack (server)');
  // The DNS exchange, encrypted by the stack's MPPE engine with the keys RFC 3079 derives.
  const hash = ntPasswordHash(PASSWORD);
  const encryptor = (server: boolean) =>
    new MppeEncryptor({
      bits: 128,
      stateless: true,
      masterKey: mppeKeysFromMsChapV2(hash, RFC2759.ntResponse, server).sendKey,
    });
  const enc = { client: encryptor(false), server: encryptor(true) };
  const send = (fromClient: boolean, info: Uint8Array) => {
    const buf = new Uint8Array(4 + info.length);
    buf.set(info, 4);
    const start = enc[fromClient ? 'client' : 'server'].encrypt(PppProtocol.Ipv4, buf, 4, buf.length);
    s.pppFrame(fromClient, PppProtocol.Compressed, buf.subarray(start), 'MPPE', { acfc: true, pfc: true });
  };
  const question = { name: NAME, type: 'A' as const, class: 'IN' as const };
  const query = dnsPacket.encode({ type: 'query', id: 0x2c88, flags: 0x100, questions: [question] });
  const answer = dnsPacket.encode({
    type: 'response',
    id: answerId,
    flags: 0x500,
    questions: [question],
    answers: [{ name: NAME, type: 'A', class: 'IN', ttl: 300, data: '10.88.0.80' }],
  });
  send(true, ipv4(CLIENT_IP, DNS_IP, 17, udp(CLIENT_IP, 48032, DNS_IP, 53, query)));
  send(false, ipv4(DNS_IP, CLIENT_IP, 17, udp(DNS_IP, 53, CLIENT_IP, 48032, answer)));
  s.greAckOnly(true);
  s.control(true, { type: T.CallClearRequest, callId: PNS_CALL_ID });
  s.control(false, {
    type: T.CallDisconnectNotify,
    callId: PAC_CALL_ID,
    resultCode: 3,
    errorCode: 0,
    causeCode: 0,
    callStatistics: '',
  });
  s.control(true, { type: T.StopControlConnectionRequest, reason: 1 });
  s.control(false, { type: T.StopControlConnectionReply, resultCode: 1, errorCode: 0 });
  s.tcpClose();
  return s;
}

const decode = (s: ScenarioBuilder, password?: string): DecodedPacket[] => [
  ...decodeCapture(s.pcap('ethernet'), password === undefined ? {} : { password }),
];
const opts = { clientOuter: PNS, serverOuter: PAC, queryName: NAME };

describe('demo story: what the capture tells', () => {
  const story = tellStory(decode(demoSession(), PASSWORD), opts);

  it('the handshake, in order, without keep-alives, each message from the side that sent it', () => {
    const seen = story.handshake.map((e) => `${e.from} ${e.protocol} ${e.message}`);
    assert.deepEqual(seen, [
      'client TCP [SYN]',
      'server TCP [SYN ACK]',
      'client PPTP Start-Control-Connection-Request (SCCRQ)',
      'server PPTP Start-Control-Connection-Reply (SCCRP)',
      'client PPTP Outgoing-Call-Request (OCRQ)',
      'server PPTP Outgoing-Call-Reply (OCRP)',
      'server LCP Configure-Request',
      'client LCP Configure-Request',
      'server LCP Configure-Ack',
      'client LCP Configure-Ack',
      'server CHAP Challenge',
      'client CHAP Response',
      'server CHAP Success',
      'client CCP Configure-Request',
      'server CCP Configure-Ack',
      'server CCP Configure-Request',
      'client CCP Configure-Ack',
      'server IPCP Configure-Request',
      'client IPCP Configure-Ack',
      'client IPCP Configure-Request',
      'server IPCP Configure-Nak',
      'client IPCP Configure-Request',
      'server IPCP Configure-Ack',
    ]);
    const ocrp = story.handshake.find((e) => e.message.includes('OCRP'))!;
    assert.deepEqual(ocrp.details, [
      `call ID ${PAC_CALL_ID}`,
      `peer call ID ${PNS_CALL_ID}`,
      'result 1 (Connected)',
    ]);
    const nak = story.handshake.find((e) => e.message === 'Configure-Nak')!;
    assert.deepEqual(nak.details, [`IP-Address: ${CLIENT_IP}`, `Primary-DNS-Address: ${DNS_IP}`]);
    // Options in short: no type or protocol numbers, the usual abbreviations; Acks without repeats.
    const lcpRequest = story.handshake.find((e) => e.protocol === 'LCP' && e.from === 'server')!;
    assert.deepEqual(lcpRequest.details, ['MRU: 1460', 'Auth: CHAP MS-CHAPv2', 'Magic-Number: 0xe615ff09']);
    for (const e of story.handshake) if (e.message === 'Configure-Ack') assert.deepEqual(e.details, []);
    assert.deepEqual(story.middle, []);
  });

  it('the teardown after the data', () => {
    assert.deepEqual(
      story.teardown.map((e) => `${e.from} ${e.protocol} ${e.message}`),
      [
        'client PPTP Call-Clear-Request (CCRQ)',
        'server PPTP Call-Disconnect-Notify (CDN)',
        'client PPTP Stop-Control-Connection-Request (StopCCRQ)',
        'server PPTP Stop-Control-Connection-Reply (StopCCRP)',
        'client TCP [FIN ACK]',
        'server TCP [FIN ACK]',
      ],
    );
  });

  it('the tunnel parameters: call IDs, MRUs, auth, MPPE, addresses, DNS', () => {
    assert.deepEqual(story.facts, {
      clientCallId: PNS_CALL_ID,
      serverCallId: PAC_CALL_ID,
      serverMru: 1460,
      clientMru: 1450,
      auth: 'CHAP (0xc223) MS-CHAPv2 (0x81)',
      user: RFC2759.user,
      authResult: 'Success: "Access granted"',
      mppe: 'stateless, 128-bit',
      serverAddress: SERVER_IP,
      clientAddress: CLIENT_IP,
      dns: [DNS_IP],
    });
    const rows = Object.fromEntries(factRows(story.facts, { client: PNS, server: PAC }));
    assert.match(
      rows['PPTP call']!,
      new RegExp(`client call ID ${PNS_CALL_ID}, server call ID ${PAC_CALL_ID}`),
    );
    assert.equal(rows.IPCP, `client ${CLIENT_IP}, server ${SERVER_IP}`);
  });

  it('finds the decrypted DNS query and its response, and counts the data', () => {
    assert.ok(story.dnsQuery && story.dnsResponse);
    assert.equal(story.dnsResponse.frameNumber, story.dnsQuery.frameNumber + 1);
    for (const p of [story.dnsQuery, story.dnsResponse]) {
      const names = p.layers.map((l) => l.protocol);
      assert.deepEqual(names, ['Ethernet', 'IPv4', 'GRE', 'PPP', 'MPPE', 'PPP', 'IPv4', 'UDP', 'DNS']);
    }
    assert.equal(story.data.encrypted, 2);
    assert.equal(story.data.decrypted, 2);
    assert.deepEqual([...story.data.kinds], [['DNS', 2]]);
    assert.equal(story.data.ackOnly, 1);
    assert.equal(story.data.keepAlives, 1);
    assert.equal(
      dataSentence(story.data),
      '2 MPPE-encrypted packets (all decrypted: 2 DNS), 1 GRE ack-only, 1 echo keep-alive',
    );
  });

  it('without the password the DNS exchange stays hidden: no query to show', () => {
    const s = tellStory(decode(demoSession()), opts);
    assert.equal(s.dnsQuery, undefined);
    assert.equal(s.data.encrypted, 2);
    assert.equal(s.data.decrypted, 0);
    assert.equal(s.handshake.length, story.handshake.length);
  });

  it('a response with another ID is not taken for the answer', () => {
    const s = tellStory(decode(demoSession(0x2c89), PASSWORD), opts);
    assert.ok(s.dnsQuery);
    assert.equal(s.dnsResponse, undefined);
  });

  it('timeline lines: aligned columns, times from the first message, details wrapped', () => {
    const lines = timelineLines(story.handshake, story.handshake[0]!.seconds);
    assert.match(lines[0]!, /^ {2}\+0\.000s {2}client → server {2}TCP {3}\[SYN\]/);
    for (const l of lines) assert.ok(l.length <= 110, `too long: ${l}`);
    // Continuation lines start under the message column.
    const i = lines.findIndex((l) =>
      l.includes('client → server  IPCP  Configure-Request  IP-Address: 0.0.0.0'),
    );
    const col = lines[i]!.indexOf('Configure-Request');
    assert.ok(lines[i + 1]!.startsWith(' '.repeat(col)) && lines[i + 1]!.trim().length > 0);
  });
});
