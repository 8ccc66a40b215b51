/**
 * The tool-output parsers against real output of iperf 3.12 and iputils
 * ping captured on this machine kind (fixtures/make.sh). The checks use
 * relations the tools' own figures must satisfy (bytes and seconds give the
 * bit rate; received = expected − lost = bytes / datagram size), so a parser
 * that read the wrong field would fail them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  IperfError,
  parseIperfTcp,
  parseIperfUdp,
  parseLinkCounters,
  parsePing,
  parseRate,
} from '../parse.js';

const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');

describe('parseIperfTcp', () => {
  const text = fixture('iperf3-tcp-2streams.out');
  const raw = JSON.parse(text);

  it('takes the receiver side of a real 2-stream run', () => {
    const r = parseIperfTcp(text);
    assert.equal(r.streams, 2);
    // The receiver's rate is its bytes over its seconds.
    assert.ok(Math.abs(r.mbps - (r.bytes * 8) / r.seconds / 1e6) < 0.01 * r.mbps);
    // Received, not sent: the sender's byte count is a different number in this capture.
    assert.notEqual(r.bytes, raw.end.sum_sent.bytes);
    assert.ok(r.mbps > 0 && r.sentMbps > 0);
    assert.equal(r.retransmits, raw.end.sum_sent.retransmits);
    assert.ok(r.senderCpuPct > 0 && r.receiverCpuPct > 0);
    assert.equal(r.startedAtSec, raw.start.timestamp.timesecs);
    assert.equal(r.startedAtSec, 1795721392);
  });

  it('sums the streams: the total equals the per-stream receivers added up', () => {
    const r = parseIperfTcp(text);
    const perStream = (raw.end.streams as { receiver: { bytes: number } }[]).reduce(
      (s, x) => s + x.receiver.bytes,
      0,
    );
    assert.equal(r.bytes, perStream);
  });

  it('reports iperf3 errors with their text', () => {
    assert.throws(
      () => parseIperfTcp(fixture('iperf3-refused.out')),
      (e: unknown) => {
        assert.ok(e instanceof IperfError);
        assert.match(e.message, /unable to connect to server: Connection refused/);
        return true;
      },
    );
  });

  it('rejects output that is not JSON, truncated, or UDP', () => {
    assert.throws(() => parseIperfTcp(''), IperfError);
    assert.throws(() => parseIperfTcp('iperf3: error - unable to connect'), /printed no JSON/);
    assert.throws(() => parseIperfTcp(text.slice(0, text.length / 2)), IperfError);
    assert.throws(() => parseIperfTcp(fixture('iperf3-udp-64.out')), /wanted TCP/);
    const noEnd = JSON.parse(text);
    delete noEnd.end.sum_received;
    assert.throws(() => parseIperfTcp(JSON.stringify(noEnd)), /end\.sum_received missing/);
  });
});

describe('parseIperfUdp', () => {
  for (const [name, size] of [
    ['iperf3-udp-1400.out', 1400],
    ['iperf3-udp-64.out', 64],
  ] as const) {
    it(`counts what arrived in ${name}`, () => {
      const raw = JSON.parse(fixture(name));
      const r = parseIperfUdp(fixture(name));
      assert.equal(r.payloadBytes, size);
      assert.equal(r.receivedPackets, raw.end.sum_received.bytes / size);
      assert.ok(r.receivedPackets <= r.sentPackets);
      assert.ok(Math.abs(r.receivedPps - r.receivedPackets / r.seconds) < 1e-6);
      // These captures were taken at an unlimited rate and lost some datagrams.
      assert.ok(r.lossPct > 0 && r.lossPct < 100);
      const sent = raw.end.sum_sent.packets as number;
      assert.equal(r.sentPackets, sent);
      assert.ok(Math.abs(r.lossPct - ((sent - r.receivedPackets) / sent) * 100) < 1e-9);
    });
  }

  it('refuses figures that disagree with each other (iperf 3.12 with -O on UDP)', () => {
    assert.throws(
      () => parseIperfUdp(fixture('iperf3-udp-1400-omit.out')),
      /received -?\d+ packets but \d+ bytes/,
    );
  });

  it('refuses more datagrams received than sent', () => {
    const raw = JSON.parse(fixture('iperf3-udp-64.out'));
    raw.end.sum_sent.packets = 10;
    assert.throws(() => parseIperfUdp(JSON.stringify(raw)), /received \d+ datagrams of 10 sent/);
  });

  it('rejects TCP output and errors', () => {
    assert.throws(() => parseIperfUdp(fixture('iperf3-tcp-2streams.out')), /wanted UDP/);
    assert.throws(() => parseIperfUdp(fixture('iperf3-refused.out')), IperfError);
  });
});

describe('parsePing', () => {
  it('reads the iputils summary', () => {
    const p = parsePing(fixture('ping-ok.out'));
    assert.equal(p.transmitted, 20);
    assert.equal(p.received, 20);
    assert.ok(p.minMs <= p.avgMs && p.avgMs <= p.maxMs);
    assert.ok(p.mdevMs >= 0);
  });

  it('fails when no reply came back, naming the counts', () => {
    assert.throws(
      () => parsePing(fixture('ping-unreachable.out')),
      /no reply \(3 packets transmitted, 0 received/,
    );
  });

  it('fails on output without a summary', () => {
    assert.throws(() => parsePing('ping: connect: Network is unreachable\n'), /no summary/);
  });
});

describe('parseLinkCounters', () => {
  it('reads stats64 of ip -s -j link', () => {
    const raw = JSON.parse(fixture('ip-link-stats.out'))[0].stats64;
    const c = parseLinkCounters(fixture('ip-link-stats.out'));
    assert.deepEqual(c, {
      rxBytes: raw.rx.bytes,
      rxPackets: raw.rx.packets,
      txBytes: raw.tx.bytes,
      txPackets: raw.tx.packets,
    });
    // The capture was taken after iperf3 pushed data out of this end.
    assert.ok(c.txBytes > c.rxBytes);
  });

  it('rejects anything but exactly one interface with stats', () => {
    assert.throws(() => parseLinkCounters('[]'), /exactly one/);
    assert.throws(() => parseLinkCounters('[{"ifname":"x"}]'), /exactly one/);
    assert.throws(() => parseLinkCounters('Device "x" does not exist.'), /not JSON/);
  });
});

describe('parseRate', () => {
  it('reads iperf3-style rates in decimal units', () => {
    assert.equal(parseRate('0'), 0);
    assert.equal(parseRate('800M'), 800e6);
    assert.equal(parseRate('2G'), 2e9);
    assert.equal(parseRate('1.5g'), 1.5e9);
    assert.equal(parseRate('100k'), 100e3);
  });

  it('rejects other text', () => {
    for (const bad of ['', 'fast', '-1', '2T', '1e9']) assert.throws(() => parseRate(bad), /not a rate/);
  });
});
