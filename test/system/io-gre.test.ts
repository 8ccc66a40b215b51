/**
 * The native raw GRE socket (src/io/raw-gre.ts) on a real kernel: two
 * namespaces joined by a veth pair. One sends PPTP-style GRE packets whose
 * IPv4 header we build ourselves (IP_HDRINCL, as `pptp_xmit` does), in one
 * sendmmsg batch; the other receives them with recvmmsg. captures
 * the link (dumpcap) and tshark decodes it independently: the header we built is the
 * one on the wire, and only protocol 47 reaches the GRE socket.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RawGreSocket } from '../../src/io/raw-gre.js';
import { createLab, listNamespaces, run, settledResources } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';

const A = '10.88.0.1';
const B = '10.88.0.2';
const CALL_ID = 0xbeef;
const TTL = 33;
const TOS = 0x10;
const COUNT = 100;

const bytesOf = (a: string) => a.split('.').map(Number);

/**
 * An IPv4 + enhanced GRE (RFC 2637 §4.1) packet with sequence number `seq`
 * and a `payloadLength`-byte PPP payload. Total length and header checksum
 * are left zero: the kernel fills them in (raw(7)).
 */
function grePacket(
  seq: number,
  payloadLength: number,
  opts: { proto?: number; df?: boolean } = {},
): Uint8Array {
  const p = new Uint8Array(20 + 12 + payloadLength);
  const v = new DataView(p.buffer);
  p[0] = 0x45;
  p[1] = TOS;
  v.setUint16(4, 0x4000 + seq); // identification
  v.setUint16(6, opts.df === false ? 0 : 0x4000); // DF
  p[8] = TTL;
  p[9] = opts.proto ?? 47;
  p.set(bytesOf(A), 12);
  p.set(bytesOf(B), 16);
  p[20] = 0x30; // K, S
  p[21] = 0x01; // version 1
  v.setUint16(22, 0x880b);
  v.setUint16(24, payloadLength);
  v.setUint16(26, CALL_ID);
  v.setUint32(28, seq);
  for (let i = 0; i < payloadLength; i++) p[32 + i] = (seq + i) & 0xff;
  return p;
}

function headerChecksumOk(p: Uint8Array): boolean {
  let s = 0;
  for (let i = 0; i < 20; i += 2) s += (p[i]! << 8) | p[i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s === 0xffff;
}

/** Counts IPv4 protocol-47 frames in a classic little-endian Ethernet pcap file (what dumpcap -P writes). */
function countGreInPcap(path: string): number {
  let b: Buffer;
  try {
    b = readFileSync(path);
  } catch {
    return 0;
  }
  let n = 0;
  for (let off = 24; off + 16 <= b.length; ) {
    const len = b.readUInt32LE(off + 8);
    const frame = off + 16;
    if (frame + len > b.length) break;
    if (len >= 34 && b.readUInt16BE(frame + 12) === 0x0800 && b[frame + 14 + 9] === 47) n++;
    off = frame + len;
  }
  return n;
}

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

describe('native raw GRE socket on a real kernel', () => {
  before(() => requireRoot('ip', 'tc', 'ping', 'tshark', 'dumpcap', 'python3'));
  const lab = createLab('iogre');
  const dir = mkdtempSync(join(tmpdir(), 'pptp-ts-iogre-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let nsA = '';
  let nsB = '';

  before(async () => {
    nsA = await lab.addNamespace('a');
    nsB = await lab.addNamespace('b');
    await lab.addVeth(nsA, 'a0', nsB, 'b0');
    await run(['ip', '-n', nsA, 'addr', 'add', `${A}/24`, 'dev', 'a0']);
    await run(['ip', '-n', nsB, 'addr', 'add', `${B}/24`, 'dev', 'b0']);
    await lab.exec(nsA, ['ping', '-c', '1', '-W', '2', B]); // neighbours resolved, link works
  });

  it('sends our own IPv4 headers in one sendmmsg batch; the peer receives only protocol 47, batched, intact', async () => {
    const pcap = join(dir, 'b0.pcap');
    // dumpcap comes with tshark (wireshark-common): the capture and the decoder are independent of us.
    const dump = lab.spawn(nsB, ['dumpcap', '-i', 'b0', '-f', 'ip', '-s', '256', '-P', '-w', pcap]);
    await dump.waitFor(/Capturing on/, 10_000);
    const resourcesBefore = await settledResources();

    const tx = RawGreSocket.open({ netns: nsA, bindAddress: A, txSlots: 128 });
    const rx = RawGreSocket.open({ netns: nsB, bindAddress: B, rxSlots: 32 });
    const got: Uint8Array[] = [];
    const batches: number[] = [];
    let inBatch = 0;
    try {
      // Noise that must not reach the GRE socket: ICMP from B's stack's point of view.
      await lab.exec(nsA, ['ping', '-c', '2', '-i', '0.2', '-W', '2', B]);
      for (let i = 0; i < COUNT; i++) {
        assert.equal(tx.send(grePacket(i, 40 + (i % 7))), true);
        if (i === 10) assert.equal(tx.send(grePacket(9999, 40, { proto: 17 })), true); // UDP, via our raw socket
        if (i === 20) assert.equal(tx.send(grePacket(8888, 2000)), true); // too big for the 1500 MTU, DF
      }
      assert.equal(tx.send(new Uint8Array(10)), false, 'shorter than an IPv4 header');
      assert.equal(tx.send(Uint8Array.of(0x60, ...new Uint8Array(39))), false, 'not IPv4');
      tx.flush();
      assert.equal(tx.stats.txBatches, 1, 'one sendmmsg batch');
      assert.equal(tx.stats.txPackets, COUNT + 1);
      assert.equal(tx.stats.txErrors, 1);
      assert.equal(tx.stats.lastTxError, 'EMSGSIZE');
      assert.equal(tx.stats.txDropped, 2);

      // Everything is in B's socket buffer before we read: the first wake-up fills the ring.
      await new Promise((r) => setTimeout(r, 200));
      rx.start({
        onPacket(p) {
          inBatch++;
          got.push(p.slice());
        },
        onBatchEnd() {
          batches.push(inBatch);
          inBatch = 0;
        },
      });
      await until(() => got.length >= COUNT, 5000);
      await new Promise((r) => setTimeout(r, 100)); // anything extra would show up now
    } finally {
      tx.close();
      rx.close();
    }
    assert.deepEqual(await settledResources(), resourcesBefore, 'no handle left after close');

    assert.equal(got.length, COUNT, 'exactly the GRE packets: no ICMP, no UDP');
    assert.equal(batches[0], 32, `batches ${batches}: the first wake-up drained a full ring`);
    assert.equal(rx.stats.rxPackets, COUNT);
    got.forEach((p, i) => {
      const want = grePacket(i, 40 + (i % 7));
      const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
      assert.equal(p.length, want.length);
      assert.equal(p[9], 47);
      assert.equal(v.getUint16(2), p.length, 'total length filled in by the kernel');
      assert.ok(headerChecksumOk(p), 'header checksum filled in by the kernel');
      // Every other header byte is ours, and so is everything after the header.
      for (const off of [0, 1, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 17, 18, 19]) {
        assert.equal(p[off], want[off], `packet ${i} header byte ${off}`);
      }
      assert.deepEqual(p.subarray(20), want.subarray(20));
    });

    await until(() => countGreInPcap(pcap) >= COUNT, 10_000); // dumpcap has written them all
    await dump.kill();
    const fields = ['ip.proto', 'ip.ttl', 'ip.id', 'ip.flags.df', 'ip.dsfield', 'ip.src', 'ip.dst', 'ip.len'];
    const gre = [
      'gre.flags.key',
      'gre.flags.sequence_number',
      'gre.proto',
      'gre.key.payload_length',
      'gre.key.call_id',
      'gre.sequence_number',
    ];
    const ts = await run(
      [
        'tshark',
        '-r',
        pcap,
        '-o',
        'ip.check_checksum:TRUE',
        '-T',
        'fields',
        '-E',
        'separator=,',
        ...[...fields, ...gre, 'ip.checksum.status'].flatMap((f) => ['-e', f]),
      ],
      { allowFail: true },
    );
    assert.equal(ts.code, 0, ts.stderr);
    const rows = ts.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    const greRows = rows.filter((r) => r[0] === '47');
    assert.equal(greRows.length, COUNT, 'tshark sees the GRE packets on the wire');
    assert.ok(
      rows.some((r) => r[0] === '17'),
      'the UDP packet was on the wire too',
    );
    assert.ok(
      rows.some((r) => r[0] === '1'),
      'and the ICMP noise',
    );
    greRows.forEach((r, i) => {
      const len = 40 + (i % 7);
      assert.deepEqual(r, [
        '47',
        String(TTL),
        `0x${(0x4000 + i).toString(16).padStart(4, '0')}`,
        '1',
        `0x${TOS.toString(16).padStart(2, '0')}`,
        A,
        B,
        String(32 + len),
        '1',
        '1',
        '0x880b',
        String(len),
        String(CALL_ID),
        String(i),
        '1', // ip.checksum.status: 1 = good (0 = bad, 2 = unverified)
      ]);
    });
  });

  it('a full socket buffer (EAGAIN) stalls the queue until POLLOUT; nothing accepted is lost, overflow is counted', async () => {
    // A 1 Mbit/s token bucket on A's uplink keeps sent packets charged to the
    // socket, so a small SO_SNDBUF fills and sendmmsg stops with EAGAIN.
    await lab.exec(nsA, [
      'tc',
      'qdisc',
      'replace',
      'dev',
      'a0',
      'root',
      'tbf',
      'rate',
      '1mbit',
      'burst',
      '32kbit',
      'latency',
      '2s',
    ]);
    const tx = RawGreSocket.open({ netns: nsA, bindAddress: A, txSlots: 64, sndbufBytes: 8192 });
    const rx = RawGreSocket.open({ netns: nsB, bindAddress: B });
    const seqs: number[] = [];
    try {
      rx.start({ onPacket: (p) => seqs.push(new DataView(p.buffer, p.byteOffset).getUint32(28)) });
      let accepted = 0;
      for (let i = 0; i < 100; i++) if (tx.send(grePacket(accepted, 1000))) accepted++;
      tx.flush();
      assert.ok(tx.stats.txStalls >= 1, `stalls ${tx.stats.txStalls}`);
      assert.ok(tx.stats.txDropped > 0, 'the ring overflowed while the socket was full');
      assert.equal(accepted + tx.stats.txDropped, 100);
      await until(() => seqs.length >= accepted, 10_000);
      assert.equal(tx.stats.txPackets, accepted);
      assert.equal(tx.stats.txErrors, 0);
      assert.deepEqual(
        seqs,
        Array.from({ length: accepted }, (_, i) => i),
        'every accepted packet arrived, in order',
      );
    } finally {
      tx.close();
      rx.close();
      await lab.exec(nsA, ['tc', 'qdisc', 'del', 'dev', 'a0', 'root']);
    }
  });

  it('the kernel filter queues only enhanced GRE; the Call ID filter drops unknown calls before JavaScript', async () => {
    const tx = RawGreSocket.open({ netns: nsA, bindAddress: A });
    const rx = RawGreSocket.open({ netns: nsB, bindAddress: B, pptpFilter: true });
    const got: number[] = [];
    try {
      rx.start({
        onPacket(p) {
          got.push((p[20 + 6]! << 8) | p[20 + 7]!);
        },
      });
      const withCallId = (callId: number, mutate?: (p: Uint8Array) => void) => {
        const p = grePacket(1, 20);
        p[26] = callId >>> 8;
        p[27] = callId & 0xff;
        mutate?.(p);
        return p;
      };
      // Before any Call ID is allowed, every enhanced GRE packet goes up; the others never arrive.
      tx.send(withCallId(0x1001));
      tx.send(withCallId(0x1001, (p) => (p[21] = 0x00))); // GRE version 0 (RFC 2784)
      tx.send(withCallId(0x1001, (p) => (p[23] = 0x00))); // protocol type 0x8800
      tx.send(withCallId(0x1001, (p) => (p[20] = 0x10))); // K clear
      tx.send(withCallId(0x1001, (p) => (p[20] = 0xb0))); // C set
      tx.flush();
      await until(() => got.length >= 1, 2000);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(got, [0x1001]);
      assert.equal(rx.filteredPackets, 0);
      // Allow one Call ID: only it goes up, the rest are counted.
      rx.setCallIdAllowed(0x2002, true);
      for (let i = 0; i < 200; i++) tx.send(withCallId(i === 150 ? 0x2002 : 0x3000 + i));
      tx.flush();
      await until(() => rx.filteredPackets >= 199, 2000);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(got, [0x1001, 0x2002]);
      assert.equal(rx.filteredPackets, 199);
      // Refuse it again: it is dropped like the others.
      rx.setCallIdAllowed(0x2002, false);
      tx.send(withCallId(0x2002));
      tx.flush();
      await until(() => rx.filteredPackets >= 200, 2000);
      assert.equal(rx.filteredPackets, 200);
      assert.deepEqual(got, [0x1001, 0x2002]);
    } finally {
      tx.close();
      rx.close();
    }
  });

  it("restricted to a Call ID, a socket gets only that call's GRE: the others are dropped in the kernel", async () => {
    // Three sockets bound to the same address, as client processes on one host are: Linux hands
    // each a copy of every GRE packet to that address (raw_v4_input). Two are restricted to their
    // own Call ID (RFC 2637 §4.1: the Call ID field is the receiver's), the third is not.
    const CALL_A = 0x0a0a;
    const CALL_C = 0x0c0c;
    const tx = RawGreSocket.open({ netns: nsA, bindAddress: A });
    const a = RawGreSocket.open({ netns: nsB, bindAddress: B, pptpFilter: true });
    const c = RawGreSocket.open({ netns: nsB, bindAddress: B, pptpFilter: true });
    const all = RawGreSocket.open({ netns: nsB, bindAddress: B, pptpFilter: true });
    const got = new Map<RawGreSocket, number[]>([
      [a, []],
      [c, []],
      [all, []],
    ]);
    try {
      for (const [s, list] of got) s.start({ onPacket: (p) => list.push((p[20 + 6]! << 8) | p[20 + 7]!) });
      a.restrictToCallId(CALL_A);
      c.restrictToCallId(CALL_C);
      const forCall = (callId: number, ackOnly = false) => {
        const p = grePacket(1, ackOnly ? 0 : 20);
        p[26] = callId >>> 8;
        p[27] = callId & 0xff;
        if (ackOnly) {
          p[20] = 0x20; // K only: no sequence number
          p[21] = 0x81; // A, version 1: the acknowledgment number follows the Call ID
        }
        return p;
      };
      const send = async (ids: readonly number[], expectAll: number) => {
        for (const id of ids) tx.send(forCall(id));
        tx.flush();
        await until(() => got.get(all)!.length >= expectAll, 2000);
        await new Promise((r) => setTimeout(r, 100));
      };
      await send([CALL_A, CALL_C, 0x0d0d, CALL_A], 4);
      tx.send(forCall(CALL_C, true));
      tx.flush();
      await until(() => got.get(all)!.length >= 5, 2000);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(
        got.get(all),
        [CALL_A, CALL_C, 0x0d0d, CALL_A, CALL_C],
        'the unrestricted socket gets them all',
      );
      assert.deepEqual(got.get(a), [CALL_A, CALL_A], 'A gets only its own');
      assert.deepEqual(got.get(c), [CALL_C, CALL_C], 'C gets only its own, an ack-only packet too');
      // Dropped by the kernel: no Call ID bitmap is on, so nothing was filtered in the addon.
      assert.equal(a.filteredPackets + c.filteredPackets, 0);
      // Widened again: all enhanced GRE reaches A.
      a.restrictToCallId(undefined);
      await send([CALL_C, 0x0d0d], 7);
      assert.deepEqual(got.get(a), [CALL_A, CALL_A, CALL_C, 0x0d0d]);
      assert.deepEqual(got.get(c), [CALL_C, CALL_C, CALL_C]);
      assert.throws(() => a.restrictToCallId(0x10000), /Call ID 65536 is not 0\.\.65535/);
      assert.throws(() => a.restrictToCallId(1.5), RangeError);
    } finally {
      tx.close();
      for (const s of got.keys()) s.close();
    }
  });

  it('close is idempotent, refuses sends, and the fds are gone', () => {
    const s = RawGreSocket.open({ netns: nsA });
    const fd = s.fd;
    assert.match(readlinkSync(`/proc/self/fd/${fd}`), /^socket:/);
    s.close();
    s.close();
    assert.equal(s.fd, -1);
    assert.equal(s.send(grePacket(1, 10)), false);
    let target = '';
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {}
    assert.doesNotMatch(target, /^socket:/);
  });

  it('buffers past net.core.rmem_max/wmem_max: forced, since we have CAP_NET_ADMIN (getsockopt on a copy of the fd)', () => {
    const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    const wmemMax = Number(readFileSync('/proc/sys/net/core/wmem_max', 'utf8'));
    const want = 2 * Math.max(rmemMax, wmemMax) + 65536;
    const s = RawGreSocket.open({ netns: nsA, rcvbufBytes: want, sndbufBytes: want });
    try {
      // Python takes a copy of our socket with pidfd_getfd(2) (syscall 438) and asks the kernel.
      const py = [
        'import ctypes, os, socket, sys',
        'pid, fd = int(sys.argv[1]), int(sys.argv[2])',
        'pidfd = os.pidfd_open(pid)',
        'libc = ctypes.CDLL(None, use_errno=True)',
        'n = libc.syscall(438, pidfd, fd, 0)',
        'assert n >= 0, os.strerror(ctypes.get_errno())',
        's = socket.socket(fileno=n)',
        'print(s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF), s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))',
      ].join('\n');
      const r = spawnSync('python3', ['-c', py, String(process.pid), String(s.fd)], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const [rcv, snd] = r.stdout.trim().split(' ').map(Number);
      // The kernel doubles what it is given (socket(7)); capped, it would be 2 × the sysctl.
      assert.equal(rcv, 2 * want);
      assert.equal(snd, 2 * want);
    } finally {
      s.close();
    }
  });

  it('reports errors clearly', () => {
    assert.throws(() => RawGreSocket.open({ netns: nsA, bindAddress: '10.0.0.999' }), /not an IPv4 address/);
    assert.throws(
      () => RawGreSocket.open({ netns: nsA, bindAddress: '192.0.2.99' }),
      (e: NodeJS.ErrnoException) => e.code === 'EADDRNOTAVAIL' && /bind/.test(e.message),
    );
  });

  it('leaves no namespace behind', async () => {
    await lab.cleanup();
    assert.deepEqual(
      (await listNamespaces()).filter((n) => n.startsWith(lab.prefix)),
      [],
    );
  });
});
