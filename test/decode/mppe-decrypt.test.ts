/**
 * `pptp-ts decode --password`: MPPE decrypted from a capture. The other side
 * is the stack's own transmit engine (src/mppe/mppe.ts `MppeEncryptor`, tested
 * against an RFC 3078/3079 reference implementation), keyed from the RFC
 * 2759 §9.2 MS-CHAPv2 exchange whose password is "clientPass"; the decoder
 * must derive the same keys from the capture and the password alone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type MppeKeyBits, mppeKeysFromMsChapV2 } from '../../src/crypto/mppe-keys.js';
import { ntPasswordHash } from '../../src/crypto/mschap.js';
import { decodeCapture } from '../../src/decode/index.js';
import { MppeSessionDecryptor } from '../../src/decode/mppe-decrypt.js';
import { WRONG_PASSWORD_WARNING } from '../../src/decode/ppp.js';
import { renderPacketText } from '../../src/decode/render.js';
import type { DecodedPacket } from '../../src/decode/tree.js';
import { MppeEncryptor } from '../../src/mppe/mppe.js';
import { utf8 } from '../../src/wire/bytes.js';
import { encodeCcpOption, encodeCcpPacket, mppeOptionFromBits } from '../../src/wire/ccp.js';
import { encodeChapPacket } from '../../src/wire/chap.js';
import { authProtocolOption, encodeLcpOption, encodeLcpPacket } from '../../src/wire/lcp.js';
import { encodeMsChapV2Response, formatMsChapV2Success } from '../../src/wire/mschap.js';
import { PppProtocol } from '../../src/wire/ppp.js';
import {
  CLIENT_TUNNEL_IP,
  DNS_QUERY,
  DNS_RESPONSE,
  DNS_SERVER,
  ipv4,
  RFC2759,
  ScenarioBuilder,
  udp,
} from './fixtures.js';

const PASSWORD = 'clientPass'; // RFC 2759 §9.2

/** CCP option 18 bits for a strength and mode (RFC 3078 §2.2.1). */
function mppeBits(bits: MppeKeyBits, stateless: boolean): number {
  return (stateless ? 0x01000000 : 0) | (bits === 128 ? 0x40 : bits === 56 ? 0x80 : 0x20);
}

/**
 * A session: the RFC 2759 MS-CHAPv2 exchange (the PAC authenticates the
 * PNS), CCP agreeing on MPPE, then `plain` frames each way encrypted by the
 * stack's engine. `drop` lists packet indices (per direction) left out of
 * the capture, as if lost before the capture point.
 */
function encryptedSession(
  bits: MppeKeyBits,
  stateless: boolean,
  plain: { fromPns: boolean; protocol: number; info: Uint8Array }[],
  drop: ReadonlySet<number> = new Set(),
): ScenarioBuilder {
  const s = new ScenarioBuilder();
  s.pppFrame(
    false,
    PppProtocol.Chap,
    encodeChapPacket({
      kind: 'challenge',
      identifier: 1,
      value: RFC2759.authenticatorChallenge,
      name: utf8('pac'),
    }),
    'Challenge',
  );
  const value = encodeMsChapV2Response({
    peerChallenge: RFC2759.peerChallenge,
    reserved: new Uint8Array(8),
    ntResponse: RFC2759.ntResponse,
    flags: 0,
  });
  s.pppFrame(
    true,
    PppProtocol.Chap,
    encodeChapPacket({ kind: 'response', identifier: 1, value, name: utf8(RFC2759.user) }),
    'Response',
  );
  s.pppFrame(
    false,
    PppProtocol.Chap,
    encodeChapPacket({
      kind: 'success',
      identifier: 1,
      message: formatMsChapV2Success({ authenticatorResponse: RFC2759.authenticatorResponse, message: 'ok' }),
    }),
    'Success',
  );
  const opt = encodeCcpOption(mppeOptionFromBits(mppeBits(bits, stateless)));
  s.pppFrame(
    true,
    PppProtocol.Ccp,
    encodeCcpPacket({ kind: 'configure-request', identifier: 1, options: [opt] }),
    'CCP req',
  );
  s.pppFrame(
    false,
    PppProtocol.Ccp,
    encodeCcpPacket({ kind: 'configure-ack', identifier: 1, options: [opt] }),
    'CCP ack',
  );
  // The client (PNS) and server (PAC) transmit keys, exactly as the stack derives them.
  const hash = ntPasswordHash(PASSWORD);
  const enc = {
    pns: new MppeEncryptor({
      bits,
      stateless,
      masterKey: mppeKeysFromMsChapV2(hash, RFC2759.ntResponse, false).sendKey,
    }),
    pac: new MppeEncryptor({
      bits,
      stateless,
      masterKey: mppeKeysFromMsChapV2(hash, RFC2759.ntResponse, true).sendKey,
    }),
  };
  const sent = { pns: 0, pac: 0 };
  for (const f of plain) {
    const side = f.fromPns ? 'pns' : 'pac';
    const buf = new Uint8Array(4 + f.info.length);
    buf.set(f.info, 4);
    const start = enc[side].encrypt(f.protocol, buf, 4, buf.length);
    if (!drop.has(sent[side]++))
      s.pppFrame(f.fromPns, PppProtocol.Compressed, buf.subarray(start), `MPPE ${side} ${sent[side] - 1}`, {
        acfc: true,
        pfc: true,
      });
  }
  return s;
}

const dnsExchange = [
  {
    fromPns: true,
    protocol: PppProtocol.Ipv4,
    info: ipv4(CLIENT_TUNNEL_IP, DNS_SERVER, 17, udp(CLIENT_TUNNEL_IP, 41337, DNS_SERVER, 53, DNS_QUERY)),
  },
  {
    fromPns: false,
    protocol: PppProtocol.Ipv4,
    info: ipv4(DNS_SERVER, CLIENT_TUNNEL_IP, 17, udp(DNS_SERVER, 53, CLIENT_TUNNEL_IP, 41337, DNS_RESPONSE)),
  },
];

const decode = (s: ScenarioBuilder, password?: string): DecodedPacket[] => [
  ...decodeCapture(s.pcap('raw'), password === undefined ? {} : { password }),
];
const mppeFrames = (ps: DecodedPacket[]) => ps.filter((p) => p.layers.some((l) => l.protocol === 'MPPE'));

describe('decode --password: MPPE decrypted from the capture', () => {
  for (const bits of [128, 56, 40] as MppeKeyBits[]) {
    for (const stateless of [true, false]) {
      it(`MPPE-${bits} ${stateless ? 'stateless' : 'stateful'}: the DNS query and answer come out readable`, () => {
        const out = decode(encryptedSession(bits, stateless, dnsExchange), PASSWORD);
        const text = mppeFrames(out).map(renderPacketText).join('\n\n');
        // Stateless: one key change before every packet; stateful: none before the first (RFC 3078 §7).
        assert.match(
          text,
          new RegExp(
            `decrypted \\d+ bytes \\(MPPE-${bits}, ${stateless ? '1 key change' : '0 key changes'}\\)`,
          ),
        );
        assert.match(text, /DNS {7}query {2}id 0x3c5e {2}RD\n {12}question {2}www\.example\.com {2}A {2}IN/);
        assert.match(text, /answer {4}example\.com {2}A {2}IN {2}ttl 300 {2}93\.184\.216\.34/);
        for (const p of out)
          for (const l of p.layers)
            assert.equal(l.malformed, undefined, `${l.protocol} in frame ${p.frameNumber}`);
      });
    }
  }

  it('without the password the payload stays encrypted, and says so', () => {
    const out = decode(encryptedSession(128, true, dnsExchange));
    for (const p of mppeFrames(out)) {
      assert.equal(p.layers.at(-1)!.protocol, 'MPPE');
      assert.match(p.layers.at(-1)!.note!, /^encrypted payload: \d+ bytes/);
    }
  });

  it('a wrong password is detected against the captured NT-Response and reported once, not per packet', () => {
    const capture = decodeCapture(encryptedSession(128, true, dnsExchange).pcap('ethernet'), {
      password: 'wrongPass',
    });
    const out = [...capture];
    assert.ok(mppeFrames(out).length >= 2);
    for (const p of mppeFrames(out)) {
      // Left encrypted, as without a password: no garbage, no per-packet complaint.
      assert.match(
        p.layers.at(-1)!.note!,
        /^encrypted payload: \d+ bytes \(the inner protocol is encrypted too\)$/,
      );
      assert.equal(p.layers.at(-1)!.protocol, 'MPPE');
    }
    assert.deepEqual(capture.stats.warnings, [WRONG_PASSWORD_WARNING]);
    assert.equal(WRONG_PASSWORD_WARNING, 'MPPE: could not decrypt with the given password (wrong password?)');
    // The right password gives no warning.
    const good = decodeCapture(encryptedSession(128, true, dnsExchange).pcap('ethernet'), {
      password: PASSWORD,
    });
    [...good];
    assert.deepEqual(good.stats.warnings, []);
  });

  it('stateless: lost packets are skipped over by the coherency count', () => {
    const many = Array.from({ length: 10 }, (_, i) => ({
      fromPns: true,
      protocol: PppProtocol.Ipv4,
      info: ipv4(
        CLIENT_TUNNEL_IP,
        DNS_SERVER,
        17,
        udp(CLIENT_TUNNEL_IP, 40000 + i, DNS_SERVER, 53, DNS_QUERY),
      ),
    }));
    const out = mppeFrames(decode(encryptedSession(128, true, many, new Set([2, 3, 4, 7])), PASSWORD));
    assert.equal(out.length, 6);
    const ports = out.map(
      (p) => p.layers.find((l) => l.protocol === 'UDP')?.fields.find((f) => f.key === 'sourcePort')?.value,
    );
    assert.deepEqual(ports, [40000, 40001, 40005, 40006, 40008, 40009]);
    assert.match(out[2]!.layers.find((l) => l.protocol === 'MPPE')!.note!, /4 key changes/);
  });

  it('stateful: a lost packet breaks the stream until the next FLUSHED (flag) packet, which resynchronises it', () => {
    // 300 packets from the PNS: counts 0..299, the flag packet is count 255.
    const many = Array.from({ length: 300 }, (_, i) => ({
      fromPns: true,
      protocol: PppProtocol.Ipv4,
      info: ipv4(
        CLIENT_TUNNEL_IP,
        DNS_SERVER,
        17,
        udp(CLIENT_TUNNEL_IP, 1000 + i, DNS_SERVER, 53, DNS_QUERY),
      ),
    }));
    const out = mppeFrames(decode(encryptedSession(128, false, many, new Set([100])), PASSWORD));
    assert.equal(out.length, 299);
    const decrypted = out.map((p) =>
      /^decrypted/.test(p.layers.find((l) => l.protocol === 'MPPE')!.note ?? ''),
    );
    // 0..99 decrypt; 101..254 wait for a flushed packet; 255 (flag) resyncs; 256..299 decrypt.
    const expected = [...Array(100).fill(true), ...Array(154).fill(false), ...Array(45).fill(true)];
    assert.deepEqual(decrypted, expected);
    assert.match(out[100]!.layers.at(-1)!.note!, /1 packet\(s\) missing: waiting for a FLUSHED packet/);
    const last = out.at(-1)!;
    assert.equal(
      last.layers.find((l) => l.protocol === 'UDP')?.fields.find((f) => f.key === 'sourcePort')?.value,
      1299,
    );
  });

  it('an exchange whose sizes are wrong for its version gives a reason, not an exception (found by fuzzing)', () => {
    const good = {
      version: 2 as const,
      authenticator: 'a',
      authenticatorChallenge: RFC2759.authenticatorChallenge,
      peerChallenge: RFC2759.peerChallenge,
      ntResponse: RFC2759.ntResponse,
      userName: utf8(RFC2759.user),
    };
    assert.ok(MppeSessionDecryptor.create(good, PASSWORD, 128, true) instanceof MppeSessionDecryptor);
    for (const bad of [
      { ...good, authenticatorChallenge: new Uint8Array(49) },
      { ...good, peerChallenge: new Uint8Array(15) },
      { ...good, ntResponse: new Uint8Array(23) },
      { ...good, version: 1 as const },
    ]) {
      const r = MppeSessionDecryptor.create(bad, PASSWORD, 128, true);
      assert.ok(!(r instanceof MppeSessionDecryptor) && typeof r.error === 'string');
    }
    // In a capture: LCP agreed on MS-CHAPv2, then a 49-byte challenge (what the fuzzer produced).
    const t = new ScenarioBuilder();
    t.pppFrame(
      true,
      PppProtocol.Lcp,
      encodeLcpPacket({
        kind: 'configure-ack',
        identifier: 1,
        options: [encodeLcpOption(authProtocolOption('mschap-v2'))],
      }),
      'LCP ack',
    );
    t.pppFrame(
      false,
      PppProtocol.Chap,
      encodeChapPacket({
        kind: 'challenge',
        identifier: 1,
        value: new Uint8Array(49).fill(7),
        name: utf8('pac'),
      }),
      'odd',
    );
    const s = encryptedSession(128, true, dnsExchange);
    for (const f of s.frames.slice(1)) t.raw(f.fromPns, f.packet, f.label);
    const out = [...decodeCapture(t.pcap('raw'), { password: PASSWORD })];
    for (const p of out)
      for (const l of p.layers) assert.notEqual(l.malformed?.code, 'internal-error', l.malformed?.detail);
    assert.match(
      mppeFrames(out)[0]!.layers.at(-1)!.note!,
      /not decrypted: MS-CHAPv2 challenge of 49 bytes, not 16/,
    );
  });

  it('the password never appears in the output', () => {
    const out = decode(encryptedSession(128, true, dnsExchange), PASSWORD);
    const all = out.map(renderPacketText).join('\n') + JSON.stringify(out);
    assert.doesNotMatch(all, /clientPass/);
  });
});
