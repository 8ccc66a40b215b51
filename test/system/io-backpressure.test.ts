/**
 * Backpressure on a real TUN (src/io/ring-port.ts pauseReceive/resumeReceive,
 * `Tun.pause`/`resume`): a paused TUN stops delivering in the middle of a
 * batch and reads nothing more from the kernel; what the namespace sends
 * meanwhile waits in the interface's queue; after `resume()` everything is
 * delivered, in order, none lost, never from inside `resume()` itself.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { addPointToPointAddress, setLinkUp, setMtu } from '../../src/io/ip.js';
import { Tun } from '../../src/io/tun.js';
import { createLab, run } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';

const LOCAL = '10.78.0.1';
const PEER = '10.78.0.2';

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

/** Waits (bounded) until the namespace has sent `n` more echo requests than `before`. */
async function untilSent(ns: string, before: number, n: number): Promise<void> {
  for (let i = 0; i < 300 && (await echoRequestsSent(ns)) - before < n; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal((await echoRequestsSent(ns)) - before, n, `the namespace sent ${n} echo requests`);
}

/** The ICMP echo sequence number of an IPv4 echo request, or -1. */
function echoSeq(p: Uint8Array): number {
  if (p.length < 28 || p[0]! >> 4 !== 4 || p[9] !== 1) return -1;
  const ihl = (p[0]! & 0x0f) * 4;
  return p[ihl] === 8 ? (p[ihl + 6]! << 8) | p[ihl + 7]! : -1;
}

describe('TUN backpressure on a real kernel', () => {
  before(() => requireRoot('ip', 'ping'));
  const lab = createLab('iobp');

  it('pause() stops mid-batch and stops reading; resume() delivers the rest and what waited, in order', async () => {
    const ns = await lab.addNamespace('a');
    for (const offload of [false, true]) {
      const tun = Tun.open({ name: 'bp%d', netns: ns, rxSlots: 8, offload });
      try {
        await setMtu(tun.name, 1400, { netns: ns });
        await addPointToPointAddress(tun.name, LOCAL, PEER, { netns: ns });
        await setLinkUp(tun.name, { netns: ns });
        // 20 echo requests wait in the interface's queue before we read anything.
        let before = await echoRequestsSent(ns);
        await lab.exec(ns, ['ping', '-c', '20', '-l', '20', '-W', '0.1', '-q', PEER], { allowFail: true });
        await untilSent(ns, before, 20);

        const seqs: number[] = [];
        let batches = 0;
        let inResume = false;
        tun.start({
          onPacket(p) {
            assert.equal(inResume, false, 'nothing is delivered from inside resume()');
            const s = echoSeq(p);
            if (s < 0) return;
            seqs.push(s);
            if (seqs.length === 3) tun.pause();
          },
          onBatchEnd() {
            batches++;
          },
        });
        for (let i = 0; i < 50 && batches === 0; i++) await new Promise((r) => setTimeout(r, 10));
        assert.deepEqual(seqs, [1, 2, 3], `offload ${offload}: stopped after the packet that paused`);
        assert.equal(batches, 1, 'the interrupted batch still ended');

        // While paused, 10 more requests go into the interface and none is read.
        const readBefore = tun.stats.rxPackets;
        before = await echoRequestsSent(ns);
        await lab.exec(ns, ['ping', '-c', '10', '-l', '10', '-W', '0.1', '-q', PEER], { allowFail: true });
        await untilSent(ns, before, 10);
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(seqs.length, 3, 'nothing read while paused');
        assert.equal(tun.stats.rxPackets, readBefore, 'nor anything else');

        inResume = true;
        tun.resume();
        inResume = false;
        for (let i = 0; i < 100 && seqs.length < 30; i++) await new Promise((r) => setTimeout(r, 10));
        assert.deepEqual(
          seqs,
          [...Array.from({ length: 20 }, (_, i) => i + 1), ...Array.from({ length: 10 }, (_, i) => i + 1)],
          'the rest of the first burst, then the second, nothing lost',
        );
        assert.ok(batches >= 3, `batches ${batches}: the interrupted one, its rest, and new reads`);
      } finally {
        tun.close();
      }
    }
  });
});
