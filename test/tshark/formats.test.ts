/**
 * Captures written by Wireshark's own tools, read by `pptp-ts decode`:
 * editcap (pcapng, nanosecond pcap, the "modified" pcap format, snap-length
 * cuts), mergecap (a pcapng with two interfaces of different link types),
 * and text2pcap (every link type we read: Ethernet, Linux cooked v1/v2, raw
 * IP, raw IPv4; and IPv4/TCP headers written by text2pcap around our GRE
 * and PPTP payloads). The file bytes come from the tools, so the readers
 * and link decoders are checked against an independent writer; tshark says
 * what each frame is.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeCapture, packetJson } from '../../src/decode/index.js';
import { encodePptpMessage } from '../../src/wire/pptp/index.js';
import { type Framing, frameOf, fullSession, LINK_TYPE_OF, PAC, PNS } from '../decode/fixtures.js';
import { requireTools } from '../helpers/tools.js';
import { runTool, tsharkNumber, tsharkPackets } from '../helpers/tshark.js';

type Obj = Record<string, unknown>;
/** text2pcap's input: a time line, then `offset hex...` lines, per packet. */
function hexdump(frames: { seconds: number; nanoseconds: number; data: Uint8Array }[]): string {
  let s = '';
  for (const f of frames) {
    s += `${f.seconds}.${String(f.nanoseconds).padStart(9, '0')}\n`;
    for (let off = 0; off < f.data.length; off += 16) {
      const bytes = [...f.data.subarray(off, off + 16)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
      s += `${off.toString(16).padStart(6, '0')} ${bytes}\n`;
    }
    s += '\n';
  }
  return s;
}

/** Our decode of a file, as JSON objects. */
function decodeFile(path: string): Obj[] {
  const bytes = new Uint8Array(readFileSync(path));
  const cap = decodeCapture(bytes);
  const out = [...cap].map((p) => packetJson(p) as Obj);
  assert.equal(cap.error, undefined, `${path}: ${cap.error?.message}`);
  return out;
}

/** The layers above the link header (what must not depend on how the frame was captured). */
function aboveLink(p: Obj): unknown[] {
  return (p.layers as Obj[]).filter(
    (l) => !['Ethernet', 'SLL', 'SLL2', 'Loopback'].includes(l.layer as string),
  );
}

describe('captures written by editcap, mergecap and text2pcap', () => {
  let dir: string;
  const session = fullSession();
  let original: Obj[];
  const path = (name: string) => join(dir, name);

  before(() => {
    requireTools('tshark', 'editcap', 'mergecap', 'text2pcap');
    dir = mkdtempSync(join(tmpdir(), `pptp-ts-formats-${process.pid}-`));
    for (const f of ['ethernet', 'sll', 'sll2', 'raw'] as Framing[])
      writeFileSync(path(`${f}.pcap`), session.pcap(f));
    original = decodeFile(path('ethernet.pcap'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [format, ext] of [
    ['pcapng', 'pcapng'],
    ['nsecpcap', 'pcap'],
    ['modpcap', 'pcap'],
  ] as const) {
    it(`editcap -F ${format}: same packets, same times as tshark reads them`, () => {
      const out = path(`editcap-${format}.${ext}`);
      runTool('editcap', ['-F', format, path('ethernet.pcap'), out]);
      const ours = decodeFile(out);
      assert.deepEqual(ours, original);
      const ts = tsharkPackets(out);
      const byFrame = new Map(ours.map((p) => [p.frame, p]));
      for (const t of ts) {
        const p = byFrame.get(Number(t.first('frame.number')));
        if (p) assert.equal(t.first('frame.time_epoch'), p.epoch);
      }
    });
  }

  it('editcap -s 64: frames cut by the snap length are decoded as far as they go', () => {
    const out = path('snap64.pcap');
    runTool('editcap', ['-s', '64', path('ethernet.pcap'), out]);
    const ours = decodeFile(out);
    const ts = tsharkPackets(out);
    const byFrame = new Map(ours.map((p) => [p.frame, p]));
    let cut = 0;
    for (const t of ts) {
      const p = byFrame.get(Number(t.first('frame.number')));
      if (!p) continue;
      assert.equal(p.captured, tsharkNumber(t.first('frame.cap_len')));
      assert.equal(p.length, tsharkNumber(t.first('frame.len')));
      if ((p.captured as number) < (p.length as number)) cut++;
      for (const l of p.layers as Obj[])
        assert.notEqual((l.malformed as Obj | undefined)?.code, 'internal-error');
    }
    assert.ok(cut > 10);
  });

  it('mergecap: a pcapng with an Ethernet and a Linux cooked v2 interface', () => {
    const out = path('merged.pcapng');
    // -a: concatenate (the second file's frames come after the first's).
    runTool('mergecap', ['-a', '-w', out, path('ethernet.pcap'), path('sll2.pcap')]);
    const ours = decodeFile(out);
    const ts = tsharkPackets(out);
    const n = session.frames.length;
    assert.equal(ts.length, 2 * n);
    const byFrame = new Map(ours.map((p) => [p.frame, p]));
    for (const t of ts) {
      const p = byFrame.get(Number(t.first('frame.number')));
      if (!p) continue;
      assert.equal(p.interface, tsharkNumber(t.first('frame.interface_id')));
      assert.equal(p.link, p.interface === 0 ? 'Ethernet' : 'Linux cooked capture v2');
    }
    // GRE frames decode alike on both interfaces, except that the sequence
    // analysis sees the second copy's numbers as old ones.
    const isGre = (p: Obj) => (p.layers as Obj[]).some((l) => l.layer === 'GRE');
    const withoutNotes = (p: Obj) => aboveLink(p).map((l) => ({ ...(l as Obj), note: undefined }));
    const first = ours.filter((p) => p.interface === 0);
    const second = ours.filter((p) => p.interface === 1);
    assert.deepEqual(first.map(aboveLink), original.map(aboveLink));
    assert.deepEqual(second.filter(isGre).map(withoutNotes), first.filter(isGre).map(withoutNotes));
    const greNotes = second
      .filter(isGre)
      .map((p) => String((p.layers as Obj[]).find((l) => l.layer === 'GRE')!.note));
    assert.ok(
      greNotes.every((n) => /^(late|duplicate)/.test(n) || n === 'undefined'),
      greNotes.join('; '),
    );
    // The second copy of the same TCP connection (same addresses and ports) is, to a
    // reassembler, a retransmission of bytes it has seen: no message is shown twice.
    const pptpIn = (ps: Obj[]) => ps.flatMap((p) => (p.layers as Obj[]).filter((l) => l.layer === 'PPTP'));
    assert.equal(pptpIn(first).length, 15);
    assert.equal(pptpIn(second).length, 0);
    assert.ok(second.some((p) => (p.layers as Obj[]).some((l) => /retransmission/.test(String(l.note)))));
  });

  for (const framing of ['ethernet', 'sll', 'sll2', 'raw'] as Framing[]) {
    for (const container of ['pcap', 'pcapng'] as const) {
      it(`text2pcap -l ${LINK_TYPE_OF[framing]} (${framing}) into ${container}`, () => {
        const txt = path(`${framing}.txt`);
        const out = path(`text2pcap-${framing}.${container}`);
        writeFileSync(
          txt,
          hexdump(
            session.frames.map((f) => ({ ...f.timestamp, data: frameOf(framing, f.packet, f.fromPns) })),
          ),
        );
        runTool('text2pcap', [
          '-q',
          '-t',
          '%s.%f',
          '-F',
          container,
          '-l',
          String(LINK_TYPE_OF[framing]),
          txt,
          out,
        ]);
        const ours = decodeFile(out);
        assert.deepEqual(ours.map(aboveLink), original.map(aboveLink));
        assert.deepEqual(
          ours.map((p) => p.epoch),
          original.map((p) => p.epoch),
        );
        if (container === 'pcapng') return; // tshark's view of the link header is checked once per link type
        const ts = tsharkPackets(out);
        const expected = { ethernet: 'eth', sll: 'sll', sll2: 'sll', raw: 'raw' }[framing];
        assert.equal(ts[0]!.protocols[0], expected);
        if (framing === 'sll' || framing === 'sll2') {
          const byFrame = new Map(ours.map((p) => [p.frame, p]));
          for (const t of ts) {
            const p = byFrame.get(Number(t.first('frame.number')));
            if (!p) continue;
            const link = (p.layers as Obj[])[0]!;
            assert.equal(tsharkNumber(t.first('sll.pkttype')), link.packetType);
            assert.equal(tsharkNumber(t.first('sll.hatype')), link.arphrdType);
            if (framing === 'sll2') assert.equal(tsharkNumber(t.first('sll.ifindex')), link.interfaceIndex);
          }
        }
      });
    }
  }

  it('text2pcap -l 228 (raw IPv4)', () => {
    const txt = path('ipv4.txt');
    const out = path('ipv4.pcap');
    writeFileSync(txt, hexdump(session.frames.map((f) => ({ ...f.timestamp, data: f.packet }))));
    runTool('text2pcap', ['-q', '-t', '%s.%f', '-F', 'pcap', '-l', '228', txt, out]);
    assert.deepEqual(decodeFile(out).map(aboveLink), original.map(aboveLink));
  });

  it('IPv4 headers written by text2pcap around our GRE payloads', () => {
    const greFrames = session.frames.filter((f) => f.gre && f.fromPns);
    const txt = path('gre.txt');
    const out = path('gre.pcap');
    // Our GRE packet = the IPv4 payload (after our 20-byte header).
    writeFileSync(txt, hexdump(greFrames.map((f) => ({ ...f.timestamp, data: f.packet.subarray(20) }))));
    runTool('text2pcap', ['-q', '-t', '%s.%f', '-F', 'pcap', '-i', '47', '-4', `${PNS},${PAC}`, txt, out]);
    const ours = decodeFile(out);
    const ts = tsharkPackets(out);
    assert.equal(ours.length, greFrames.length);
    ours.forEach((p, i) => {
      const ip = (p.layers as Obj[]).find((l) => l.layer === 'IPv4')!;
      const t = ts[i]!;
      assert.equal(ip.source, t.first('ip.src'));
      assert.equal(ip.destination, t.first('ip.dst'));
      assert.equal(ip.checksum, tsharkNumber(t.first('ip.checksum')));
      assert.equal(ip.checksumStatus, 'good');
      assert.equal(ip.totalLength, tsharkNumber(t.first('ip.len')));
      // Above IPv4, the same layers as when our own encoder wrote the header.
      // (Only the PNS's half of the session is here, so CCP's agreement, sent by the PAC, is not.)
      const mine = original.find((o) => o.epoch === p.epoch)!;
      const noAgreement = (ls: unknown[]) => ls.map((l) => ({ ...(l as Obj), negotiated: undefined }));
      assert.deepEqual(noAgreement(aboveLink(p).slice(1)), noAgreement(aboveLink(mine).slice(1)));
    });
  });

  it('TCP headers written by text2pcap around our PPTP control messages (no SYN: the stream is picked up mid-way)', () => {
    const msgs = session.frames.filter((f) => f.fromPns && f.pptp?.length).flatMap((f) => f.pptp!);
    const txt = path('pptp.txt');
    const out = path('pptp.pcap');
    writeFileSync(
      txt,
      hexdump(
        msgs.map((m, i) => ({ seconds: 1_718_000_100 + i, nanoseconds: 0, data: encodePptpMessage(m) })),
      ),
    );
    runTool('text2pcap', [
      '-q',
      '-t',
      '%s.%f',
      '-F',
      'pcap',
      '-T',
      '50999,1723',
      '-4',
      `${PNS},${PAC}`,
      txt,
      out,
    ]);
    const ours = decodeFile(out);
    const ts = tsharkPackets(out);
    const mineTypes = ours.flatMap((p) =>
      (p.layers as Obj[]).filter((l) => l.layer === 'PPTP').map((l) => l.messageType),
    );
    assert.deepEqual(
      mineTypes,
      msgs.map((m) => m.type),
    );
    assert.deepEqual(
      ts.map((t) => tsharkNumber(t.first('pptp.control_message_type'))),
      mineTypes,
    );
    for (const p of ours)
      for (const l of p.layers as Obj[]) assert.equal(l.malformed, undefined, JSON.stringify(l));
  });

  it('pptp-ts decode (the command) on a tool-written pcapng: --json lines, text, exit codes', () => {
    const out = path('cli.pcapng');
    runTool('editcap', ['-F', 'pcapng', path('sll.pcap'), out]);
    const bin = join(process.cwd(), 'bin', 'pptp-ts.js');
    const json = spawnSync(process.execPath, [bin, 'decode', '--json', out], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(json.status, 0, json.stderr);
    const lines = json.stdout.trimEnd().split('\n');
    assert.equal(lines.length, original.length);
    assert.deepEqual(
      lines.map((l) => aboveLink(JSON.parse(l))),
      original.map(aboveLink),
    );
    const text = spawnSync(process.execPath, [bin, 'decode', out], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(text.status, 0);
    assert.match(text.stdout, /^Frame 1 {2}2024-06-10 06:13:20\.001000 UTC/);
    assert.equal(
      text.stderr,
      `${session.frames.length} frames read, ${original.length} shown: 15 PPTP control messages, ${session.frames.filter((f) => f.gre).length} GRE packets\n`,
    );
    // The reader of a pipe going away early is not an error.
    const head = spawnSync('sh', ['-c', `"${process.execPath}" "${bin}" decode "${out}" | head -n 1`], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(head.status, 0);
    assert.equal(head.stdout.split('\n').length, 2);
    assert.doesNotMatch(head.stderr, /EPIPE|Error/);
  });
});
