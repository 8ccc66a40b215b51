/**
 * `pptp-ts decode` on live traffic in a namespace world: `--interface IF`
 * (the native AF_PACKET capture) until `--count` packets or SIGINT, and
 * `tcpdump -U -w - | pptp-ts decode -`, while a client talks PPTP control
 * bytes to port 1723 across a veth. The client's segments are captured on
 * the sending host before the veth's checksum offload fills them in, so
 * the kernel's own CHECKSUM_PARTIAL checksums must come out `unverified`,
 * never `[bad]`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeCapture, packetJson } from '../../src/decode/index.js';
import { encodePptpMessage, PptpMessageType } from '../../src/wire/pptp/index.js';
import { createLab, isRoot, run, type Spawned } from '../helpers/netns.js';
import { hasTshark, tsharkNumber, tsharkPackets } from '../helpers/tshark.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'pptp-ts.js');
const A = '10.89.7.1';
const B = '10.89.7.2';

/** A Start-Control-Connection-Request, as a client's first message. */
const SCCRQ = Buffer.from(
  encodePptpMessage({
    type: PptpMessageType.StartControlConnectionRequest,
    protocolVersion: 0x0100,
    framingCapabilities: 1,
    bearerCapabilities: 1,
    maximumChannels: 0,
    firmwareRevision: 1,
    hostName: 'live-test',
    vendorString: 'pptp-ts',
  }),
).toString('hex');

/** A client in `ns` that connects to B:1723, writes the SCCRQ `times` times (one segment each), and closes. */
function client(times: number): string[] {
  const js = `const s=require('net').connect(1723,'${B}',async()=>{for(let i=0;i<${times};i++){s.write(Buffer.from('${SCCRQ}','hex'));await new Promise(r=>setTimeout(r,50));}s.end();});s.on('data',()=>{});s.on('error',e=>{console.error(e.message);process.exit(1)});`;
  return [process.execPath, '-e', js];
}

type Obj = Record<string, unknown>;
const lines = (s: string) =>
  s
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Obj);
const tcpOf = (p: Obj) => (p.layers as Obj[]).find((l) => l.layer === 'TCP');

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

describe('pptp-ts decode on live traffic', () => {
  const lab = createLab('declive');
  let nsA = '';
  let nsB = '';
  let server: Spawned | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'pptp-ts-declive-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  before(async () => {
    assert.ok(isRoot, 'this test needs root (network namespaces, AF_PACKET)');
    assert.ok(hasTshark(), 'tshark is not installed: apt-get install -y tshark');
    nsA = await lab.addNamespace('a');
    nsB = await lab.addNamespace('b');
    await lab.addVeth(nsA, 'a0', nsB, 'b0');
    await run(['ip', '-n', nsA, 'addr', 'add', `${A}/24`, 'dev', 'a0']);
    await run(['ip', '-n', nsB, 'addr', 'add', `${B}/24`, 'dev', 'b0']);
    // An echo server on the PPTP port: the replies are PPTP messages too.
    server = lab.spawn(nsB, [
      process.execPath,
      '-e',
      "require('net').createServer(s=>{s.on('data',d=>s.write(d));s.on('error',()=>{})}).listen(1723,()=>console.log('listening'))",
    ]);
    await server.waitFor(/listening/, 10_000);
  });

  it('--interface --count N: decodes live, kernel-offloaded checksums unverified, stops by itself after N', async () => {
    const dec = lab.spawn(nsA, [
      process.execPath,
      BIN,
      'decode',
      '--interface',
      'a0',
      '--count',
      '6',
      '--json',
    ]);
    await dec.waitFor(/capturing on a0/, 15_000);
    await lab.exec(nsA, client(3));
    const r = await Promise.race([
      dec.exited,
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no exit: ${dec.stderr()}`)), 15_000)),
    ]);
    assert.equal(r.code, 0, dec.stderr());
    const packets = lines(dec.stdout());
    assert.equal(packets.length, 6, dec.stdout());
    // Frame numbers count every PPTP frame read (bare ACKs are read, not shown), in order.
    const frames = packets.map((p) => p.frame as number);
    assert.deepEqual(
      frames,
      [...frames].sort((a, b) => a - b),
    );
    const statuses = packets.map((p) => `${tcpOf(p)?.checksumStatus}/${tcpOf(p)?.checksumOffload ?? ''}`);
    assert.ok(!statuses.some((s) => s.startsWith('bad')), statuses.join(' '));
    assert.ok(statuses.includes('unverified/partial'), `the sender's own segments: ${statuses.join(' ')}`);
    const pptp = packets.flatMap((p) => (p.layers as Obj[]).filter((l) => l.layer === 'PPTP'));
    assert.ok(pptp.length >= 1, 'the SCCRQ is decoded');
    assert.equal(pptp[0]!.hostName, 'live-test');
  });

  it('tshark agrees: what the kernel left in those checksums is the pseudo-header sum, and we call exactly those unverified', async () => {
    const file = join(dir, 'a0.pcap');
    const dump = lab.spawn(nsA, [
      'tcpdump',
      '-i',
      'a0',
      '--immediate-mode',
      '-U',
      '-w',
      file,
      'tcp port 1723',
    ]);
    await dump.waitFor(/listening on a0/, 15_000);
    await lab.exec(nsA, client(2));
    await new Promise((r) => setTimeout(r, 500));
    await dump.kill();
    const ours = new Map(
      [...decodeCapture(new Uint8Array(readFileSync(file)), { all: true })].map((p) => [
        p.frameNumber,
        packetJson(p) as Obj,
      ]),
    );
    let partial = 0;
    let n = 0;
    for (const t of tsharkPackets(file)) {
      const tcp = tcpOf(ours.get(Number(t.first('frame.number')))!);
      if (!tcp) continue;
      n++;
      const segment = tsharkNumber(t.first('ip.len'))! - tsharkNumber(t.first('ip.hdr_len'))!;
      const pseudo = pseudoHeaderSum(t.first('ip.src')!, t.first('ip.dst')!, segment);
      if (t.first('tcp.checksum.status') === '1') {
        assert.equal(tcp.checksumStatus, 'good');
      } else {
        // tshark, checking, calls it bad; the field is the pseudo-header sum, as Linux leaves it.
        assert.equal(tsharkNumber(t.first('tcp.checksum')), pseudo);
        assert.equal(tcp.checksumStatus, 'unverified');
        assert.equal(tcp.checksumOffload, 'partial');
        partial++;
      }
    }
    assert.ok(n >= 6 && partial >= 1, `${n} TCP frames, ${partial} partial`);
  });

  it('--interface until SIGINT: the summary line, exit 0', async () => {
    const dec = lab.spawn(nsA, [process.execPath, BIN, 'decode', '-i', 'a0']);
    await dec.waitFor(/capturing on a0/, 15_000);
    await lab.exec(nsA, client(1));
    await dec.waitFor(/Start-Control-Connection-Request/, 10_000);
    dec.child.kill('SIGINT');
    const r = await dec.exited;
    assert.equal(r.code, 0, dec.stderr());
    assert.match(dec.stderr(), /\d+ frames read, \d+ shown: [1-9]\d* PPTP control messages/);
    assert.match(
      dec.stdout(),
      /checksum 0x[0-9a-f]{4} \[unverified\] \(pseudo-header sum only: left to offload\)/,
    );
    assert.doesNotMatch(dec.stdout(), /\[bad\]/);
  });

  it('tcpdump -U -w - | pptp-ts decode - : decodes as the packets arrive', async () => {
    const dec = lab.spawn(nsA, [
      'bash',
      '-c',
      `set -o pipefail; tcpdump -i a0 -U -c 8 -w - 'tcp port 1723' 2>/dev/null | ${process.execPath} ${BIN} decode -`,
    ]);
    await new Promise((r) => setTimeout(r, 1000)); // tcpdump opens its socket
    await lab.exec(nsA, client(2));
    // Both messages are printed while tcpdump still runs (it waits for 8 packets): streamed, not read to the end.
    await dec.waitFor(/Start-Control-Connection-Request[\s\S]*Start-Control-Connection-Request/, 10_000);
    await lab.exec(nsA, client(1));
    const r = await Promise.race([
      dec.exited,
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no exit: ${dec.stderr()}`)), 15_000)),
    ]);
    assert.equal(r.code, 0, dec.stderr());
    assert.match(dec.stderr(), /^8 frames read/m);
  });
});
