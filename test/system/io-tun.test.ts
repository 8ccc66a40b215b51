/**
 * The native TUN (src/io/tun.ts) on a real kernel: a namespace's own IP stack
 * pings an address behind our TUN, we read the echo requests through
 * TunDevice and answer them with write(), and ping succeeds. Also: batched
 * reads and writes, GC safety of a live fd, and a close that leaves no fd,
 * no interface and nothing that keeps the process alive.
 */
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { addPointToPointAddress, linkInfo, setLinkUp, setMtu } from '../../src/io/ip.js';
import { Tun } from '../../src/io/tun.js';
import { createLab, listNamespaces, run, settledResources } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';

const LOCAL = '10.77.0.1';
const PEER = '10.77.0.2';

/** RFC 1071 Internet checksum over b. */
function inetChecksum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (b.length % 2) s += b[b.length - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/**
 * If `p` is a valid IPv4 ICMP echo request, returns the echo reply a host at
 * its destination would send (new header and checksums computed from scratch).
 */
function echoReply(p: Uint8Array): Uint8Array | undefined {
  if (p.length < 28 || p[0]! >> 4 !== 4 || p[9] !== 1) return undefined;
  const ihl = (p[0]! & 0x0f) * 4;
  const total = (p[2]! << 8) | p[3]!;
  if (total !== p.length || inetChecksum(p.subarray(0, ihl)) !== 0) return undefined;
  const icmp = p.subarray(ihl);
  if (icmp[0] !== 8 || inetChecksum(icmp) !== 0) return undefined;
  const r = new Uint8Array(20 + icmp.length);
  r[0] = 0x45;
  r[2] = r.length >> 8;
  r[3] = r.length & 0xff;
  r[8] = 64;
  r[9] = 1;
  r.set(p.subarray(16, 20), 12);
  r.set(p.subarray(12, 16), 16);
  const c = inetChecksum(r.subarray(0, 20));
  r[10] = c >> 8;
  r[11] = c & 0xff;
  r.set(icmp, 20);
  r[20] = 0; // echo reply
  r[22] = 0;
  r[23] = 0;
  const ic = inetChecksum(r.subarray(20));
  r[22] = ic >> 8;
  r[23] = ic & 0xff;
  return r;
}

const ip4 = (p: Uint8Array, off: number) => `${p[off]}.${p[off + 1]}.${p[off + 2]}.${p[off + 3]}`;

/** Starts an echo responder on `tun`; returns what it saw. */
function respond(tun: Tun) {
  const seen = { requests: 0, other: 0, batches: [] as number[], srcDst: new Set<string>() };
  let inBatch = 0;
  tun.start({
    onPacket(p) {
      inBatch++;
      const r = echoReply(p);
      if (!r) {
        seen.other++;
        return;
      }
      seen.requests++;
      seen.srcDst.add(`${ip4(p, 12)}>${ip4(p, 16)}`);
      tun.write(r);
    },
    onBatchEnd() {
      seen.batches.push(inBatch);
      inBatch = 0;
      tun.flush();
    },
    onError(err) {
      throw err;
    },
  });
  return seen;
}

async function configure(ns: string, tun: Tun): Promise<void> {
  const opts = { netns: ns };
  await setMtu(tun.name, 1400, opts);
  await addPointToPointAddress(tun.name, LOCAL, PEER, opts);
  await setLinkUp(tun.name, opts);
}

/** ICMP echo requests the namespace's stack has sent so far (IcmpMsg OutType8 in /proc/net/snmp). */
async function echoRequestsSent(ns: string): Promise<number> {
  const r = await run(['ip', 'netns', 'exec', ns, 'cat', '/proc/net/snmp']);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('IcmpMsg:'));
  if (lines.length < 2) return 0;
  const keys = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/);
  const i = keys.indexOf('OutType8');
  return i < 0 ? 0 : Number(values[i]);
}

function fdTarget(fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

describe('native TUN on a real kernel', () => {
  before(() => requireRoot('ip', 'ping'));
  const lab = createLab('iotun');
  let ns = '';

  it('ping from the namespace reaches our TunDevice and our replies reach ping', async () => {
    ns = await lab.addNamespace('a');
    const resourcesBefore = await settledResources();
    const tun = Tun.open({ name: 'pt%d', netns: ns });
    assert.equal(fdTarget(tun.fd), '/dev/net/tun');
    await configure(ns, tun);
    assert.equal((await linkInfo(tun.name, { netns: ns })).mtu, 1400);
    const seen = respond(tun);
    const r = await lab.exec(ns, ['ping', '-c', '3', '-i', '0.2', '-W', '2', PEER], { allowFail: true });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /3 packets transmitted, 3 received/);
    assert.equal(seen.requests, 3);
    assert.deepEqual([...seen.srcDst], [`${LOCAL}>${PEER}`]);
    assert.equal(tun.stats.txPackets, 3);
    assert.equal(tun.stats.txErrors, 0);

    const fd = tun.fd;
    tun.close();
    tun.close(); // idempotent
    assert.equal(tun.fd, -1);
    assert.equal(fdTarget(fd) === '/dev/net/tun', false, 'the fd is closed');
    const gone = await run(['ip', '-n', ns, 'link', 'show', 'dev', tun.name], { allowFail: true });
    assert.notEqual(gone.code, 0, 'the interface went away with the fd');
    assert.equal(tun.write(new Uint8Array(40)), false, 'write after close is refused');
    assert.deepEqual(await settledResources(), resourcesBefore);
  });

  it('reads and writes in batches: a burst is drained in one wake-up and answered in one flush', async () => {
    const tun = Tun.open({ name: 'pt%d', netns: ns, rxSlots: 16 });
    try {
      await configure(ns, tun);
      // Queue a burst in the kernel before reading: start only once ping has sent it all.
      const sentBefore = await echoRequestsSent(ns);
      const ping = lab.spawn(ns, ['ping', '-c', '40', '-l', '40', '-W', '5', '-q', PEER]);
      // The stack's ICMP counter says when ping has sent all 40 (each goes
      // straight into the TUN's queue in the same call).
      for (let i = 0; i < 200 && (await echoRequestsSent(ns)) - sentBefore < 40; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal((await echoRequestsSent(ns)) - sentBefore, 40);
      const seen = respond(tun);
      const res = await ping.exited;
      assert.equal(res.code, 0, res.stdout + res.stderr);
      assert.match(res.stdout, /40 packets transmitted, 40 received/);
      assert.equal(seen.requests, 40);
      assert.equal(
        Math.max(...seen.batches),
        16,
        `batches ${seen.batches}: one wake-up fills the 16-slot ring`,
      );
      assert.ok(tun.stats.rxBatches < tun.stats.rxPackets);
      assert.ok(
        tun.stats.txBatches < tun.stats.txPackets,
        `tx: ${tun.stats.txPackets} packets in ${tun.stats.txBatches} batches`,
      );
    } finally {
      tun.close();
    }
  });

  it('GC never closes the fd of a running TUN that JS no longer references', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    let fd = -1;
    let seen: ReturnType<typeof respond> | undefined;
    let close: (() => void) | undefined;
    await (async () => {
      const tun = Tun.open({ name: 'pt%d', netns: ns });
      await configure(ns, tun);
      fd = tun.fd;
      seen = respond(tun);
      // Keep only a way to close it, not the Tun or its port.
      const weakTun = new WeakRef(tun);
      close = () => weakTun.deref()?.close();
    })();
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(fdTarget(fd), '/dev/net/tun', 'fd still open after GC');
    const r = await lab.exec(ns, ['ping', '-c', '2', '-i', '0.2', '-W', '2', PEER], { allowFail: true });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(seen!.requests, 2);
    close!();
    assert.notEqual(fdTarget(fd), '/dev/net/tun');
  });

  it('GC does close the fd of an idle TUN that nothing references (no leak)', async () => {
    const gc = runInNewContext('gc') as () => void;
    let fd = -1;
    let name = '';
    (() => {
      const tun = Tun.open({ name: 'pt%d', netns: ns });
      fd = tun.fd;
      name = tun.name;
    })();
    for (let i = 0; i < 10 && fdTarget(fd) === '/dev/net/tun'; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.notEqual(fdTarget(fd), '/dev/net/tun', 'fd closed by the finalizer');
    const gone = await run(['ip', '-n', ns, 'link', 'show', 'dev', name], { allowFail: true });
    assert.notEqual(gone.code, 0);
  });

  it('an open, started TUN or GRE socket keeps the process alive until close() (or unref())', async () => {
    const script = (body: string) =>
      `import { Tun } from ${JSON.stringify(new URL('../../src/io/tun.ts', import.meta.url).pathname)};
       import { RawGreSocket } from ${JSON.stringify(new URL('../../src/io/raw-gre.ts', import.meta.url).pathname)};
       const tun = Tun.open({ name: 'pt%d', netns: ${JSON.stringify(ns)} });
       tun.start({ onPacket() {} });
       const gre = RawGreSocket.open({ netns: ${JSON.stringify(ns)} });
       gre.start({ onPacket() {} });
       ${body}
       console.log('ready');`;
    const child = (body: string) =>
      lab.spawn(ns, [process.execPath, '--import', 'tsx', '--input-type=module', '-e', script(body)]);
    const closes = child('tun.close(); gre.close();');
    const unrefs = child('tun.unref(); gre.unref();');
    const halfClosed = child('tun.close();');
    const stays = child('');
    const within = (p: Promise<unknown>, ms: number) =>
      Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
    assert.equal(await within(closes.exited, 15_000), true, 'exits after close()');
    assert.equal((await closes.exited).code, 0, closes.stderr());
    assert.equal(await within(unrefs.exited, 15_000), true, 'exits after unref()');
    await stays.waitFor(/ready/, 15_000);
    await halfClosed.waitFor(/ready/, 15_000);
    assert.equal(await within(stays.exited, 1500), false, 'stays alive while started');
    assert.equal(await within(halfClosed.exited, 10), false, 'the open GRE socket alone keeps it alive');
    await stays.kill();
    await halfClosed.kill();
  });

  it('reports errors clearly', () => {
    assert.throws(() => Tun.open({ name: 'x'.repeat(16), netns: ns }), /IFNAMSIZ/);
    assert.throws(
      () => Tun.open({ netns: `${lab.prefix}-nosuch` }),
      (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && /TUNSETIFF/.test(e.message),
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
