/**
 * `pptp-ts decode` on captures as they come from real hosts, against
 * tshark: checksums a sender left to offload, frames cut by the snap
 * length, and a capture piped in on standard input
 * (`editcap ... - | pptp-ts decode -`, `tcpdump -r F -w - | pptp-ts decode -`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeCapture, packetJson } from '../../src/decode/index.js';
import { fullSession } from '../decode/fixtures.js';
import { hasTshark, runTool, tsharkNumber, tsharkPackets } from '../helpers/tshark.js';

type Obj = Record<string, unknown>;
const ROOT = join(import.meta.dirname, '..', '..');

function decodeFile(path: string): Obj[] {
  const cap = decodeCapture(new Uint8Array(readFileSync(path)));
  const out = [...cap].map((p) => packetJson(p) as Obj);
  assert.equal(cap.error, undefined, `${path}: ${cap.error?.message}`);
  return out;
}
const layersOf = (p: Obj, name: string) => (p.layers as Obj[]).filter((l) => l.layer === name);

/** The folded, uncomplemented sum of the TCP pseudo-header (RFC 9293 §3.1), from the dotted addresses. */
function pseudoHeaderSum(src: string, dst: string, length: number): number {
  let s = 6 + length;
  for (const a of [src, dst]) {
    const o = a.split('.').map(Number);
    s += (o[0]! << 8) + o[1]! + (o[2]! << 8) + o[3]!;
  }
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

describe('decode as people use tshark', () => {
  let dir: string;
  const path = (n: string) => join(dir, n);
  before(() => {
    assert.ok(hasTshark(), 'tshark is not installed: apt-get install -y tshark');
    dir = mkdtempSync(join(tmpdir(), `pptp-ts-usage-${process.pid}-`));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('checksums left to offload (IPv4 0 from a Windows client, a TCP pseudo-header sum) are unverified, not bad', () => {
    const s = fullSession();
    let zeroed = 0;
    let partial = 0;
    for (const f of s.frames) {
      if (!f.fromPns) continue;
      const p = f.packet;
      if (p[9] === 47) {
        // The client's outer IPv4 header as Windows hands it to the card.
        p[10] = 0;
        p[11] = 0;
        zeroed++;
      } else if (p[9] === 6) {
        // The TCP checksum as Linux leaves it for CHECKSUM_PARTIAL.
        const src = `${p[12]}.${p[13]}.${p[14]}.${p[15]}`;
        const dst = `${p[16]}.${p[17]}.${p[18]}.${p[19]}`;
        const sum = pseudoHeaderSum(src, dst, p.length - 20);
        p[36] = sum >> 8;
        p[37] = sum & 0xff;
        partial++;
      }
    }
    assert.ok(zeroed > 5 && partial > 3);
    writeFileSync(path('offload.pcap'), s.pcap('ethernet'));
    const ours = new Map(decodeFile(path('offload.pcap')).map((p) => [p.frame as number, p]));
    let seenZero = 0;
    let seenPartial = 0;
    for (const t of tsharkPackets(path('offload.pcap'))) {
      const p = ours.get(Number(t.first('frame.number')));
      if (!p) continue;
      const ip = layersOf(p, 'IPv4')[0]!;
      // tshark, checking, calls both kinds bad; it also says what the sum should have been.
      if (t.first('ip.checksum') === '0x0000') {
        assert.equal(t.first('ip.checksum.status'), '0');
        assert.notEqual(tsharkNumber(t.first('ip.checksum_calculated')), 0);
        assert.equal(ip.checksumStatus, 'unverified');
        assert.equal(ip.checksumOffload, 'not-computed');
        seenZero++;
      } else {
        assert.equal(t.first('ip.checksum.status'), '1');
        assert.equal(ip.checksumStatus, 'good');
      }
      const tcp = layersOf(p, 'TCP')[0];
      if (!tcp || t.first('tcp.checksum.status') === undefined) continue;
      const field = tsharkNumber(t.first('tcp.checksum'));
      const expectPartial =
        field ===
        pseudoHeaderSum(
          t.first('ip.src')!,
          t.first('ip.dst')!,
          tsharkNumber(t.first('tcp.len'))! + tsharkNumber(t.first('tcp.hdr_len'))!,
        );
      if (expectPartial) {
        assert.equal(t.first('tcp.checksum.status'), '0', 'tshark calls it bad');
        assert.equal(tcp.checksumStatus, 'unverified');
        assert.equal(tcp.checksumOffload, 'partial');
        seenPartial++;
      } else {
        assert.equal(t.first('tcp.checksum.status'), '1');
        assert.equal(tcp.checksumStatus, 'good');
      }
    }
    assert.equal(seenZero, zeroed);
    assert.ok(seenPartial >= 3, `${seenPartial}`);
    // The text says so.
    const text = spawnSync(process.execPath, [join(ROOT, 'bin/pptp-ts.js'), 'decode', path('offload.pcap')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /checksum 0x0000 \[unverified\] \(not computed: left to offload\)/);
    assert.match(
      text.stdout,
      /checksum 0x[0-9a-f]{4} \[unverified\] \(pseudo-header sum only: left to offload\)/,
    );
    assert.doesNotMatch(text.stdout, /\[bad\]/);
  });

  it("editcap -s 96: every cut frame says so with tshark's lengths, keeps tshark's GRE fields, and nothing is malformed", () => {
    writeFileSync(path('s.pcap'), fullSession().pcap('ethernet'));
    runTool('editcap', ['-s', '96', path('s.pcap'), path('snap96.pcap')]);
    const ours = new Map(decodeFile(path('snap96.pcap')).map((p) => [p.frame as number, p]));
    let cut = 0;
    for (const t of tsharkPackets(path('snap96.pcap'))) {
      const p = ours.get(Number(t.first('frame.number')));
      if (!p) continue;
      const caplen = tsharkNumber(t.first('frame.cap_len'))!;
      const len = tsharkNumber(t.first('frame.len'))!;
      const layers = p.layers as Obj[];
      for (const l of layers)
        assert.equal(l.malformed, undefined, `frame ${p.frame} ${l.layer}: ${JSON.stringify(l.malformed)}`);
      const notes = layers.map((l) => String(l.note ?? '')).join(' ');
      if (caplen < len) {
        cut++;
        assert.ok(
          notes.includes(`[truncated by capture: ${caplen} of ${len} bytes]`),
          `frame ${p.frame}: ${notes}`,
        );
      } else {
        assert.ok(!notes.includes('truncated by capture'));
      }
      const gre = layersOf(p, 'GRE')[0];
      if (gre && t.first('gre.key.call_id') !== undefined) {
        assert.equal(gre.callId, tsharkNumber(t.first('gre.key.call_id')));
        assert.equal(gre.payloadLength, tsharkNumber(t.first('gre.key.payload_length')));
        if (t.first('gre.sequence_number') !== undefined)
          assert.equal(gre.sequenceNumber, tsharkNumber(t.first('gre.sequence_number')));
      }
    }
    assert.ok(cut >= 5, `${cut} cut frames`);
  });

  it('- : editcap -F pcapng F - | pptp-ts decode - and tcpdump -r F -w - | pptp-ts decode - print what decode F prints', () => {
    writeFileSync(path('s.pcap'), fullSession().pcap('sll2'));
    runTool('editcap', ['-F', 'pcapng', path('s.pcap'), path('s.pcapng')]);
    const bin = `${JSON.stringify(process.execPath)} ${JSON.stringify(join(ROOT, 'bin/pptp-ts.js'))}`;
    const direct = spawnSync('sh', ['-c', `${bin} decode ${path('s.pcapng')}`], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(direct.status, 0, direct.stderr);
    for (const producer of [
      `editcap -F pcapng ${path('s.pcap')} -`,
      `tcpdump -r ${path('s.pcap')} -w - 2>/dev/null`,
    ]) {
      const piped = spawnSync('bash', ['-c', `set -o pipefail; ${producer} | ${bin} decode -`], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(piped.status, 0, `${producer}: ${piped.stderr}`);
      assert.equal(piped.stdout, direct.stdout, producer);
      assert.match(piped.stderr, /frames read, \d+ shown/);
    }
  });
});
