/**
 * A TCP-like stream of 10,000 packets through the whole stack (client
 * driver → MPPE-128 → GRE → in-memory link with seeded loss, reordering
 * and duplication → server driver → shared TUN), with a small go-back-N
 * sender and a cumulative-ack receiver on the two hosts, like TCP over the
 * tunnel. What the tunnel promises and what is checked:
 *  - every packet the receiving host gets is intact (SHA-256 over its body);
 *  - the tunnel never reorders: each packet carries the serial number of its
 *    transmission, and serials arrive strictly increasing (the reorder buffer
 *    restores order; late packets past it are dropped, never delivered out
 *    of order), and never twice (duplicates are dropped);
 *  - with retransmission on top, all 10,000 arrive, in order, intact;
 *  - the faults really happened (the injectors and GRE counters say so).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Timer } from '../../src/io/clock.js';
import { readTaggedUdp, taggedUdp } from './packets.js';
import { World } from './world.js';

const N = 10_000;
const WINDOW = 48;
const RTO_MS = 400;

describe('a reliable stream over a lossy, reordering, duplicating link', () => {
  it('delivers 10,000 packets intact and in order; the tunnel itself never reorders or duplicates', async () => {
    const faults = { drop: 0.05, reorder: 0.08, reorderDistance: 4, duplicate: 0.03 };
    const w = new World({
      faults: { toServer: { seed: 4242, ...faults }, toClient: { seed: 777, ...faults } },
    });
    await w.start();
    const c = w.startClient({ lcpEchoInterval: 0 });
    const info = await w.wait(c.up);
    const clientIp = info.localAddress;
    const serverIp = info.remoteAddress;

    // Receiver on the server host: cumulative acks, buffering out-of-order packets.
    let expected = 0;
    const held = new Set<number>();
    let damaged = 0;
    let lastSerial = -1;
    let serialOrderViolations = 0;
    let arrivals = 0;
    const delivered: number[] = [];
    w.serverTun.onHostPacket = (p) => {
      const m = readTaggedUdp(p);
      if (m?.kind !== 0) {
        damaged++;
        return;
      }
      arrivals++;
      if (m.serial <= lastSerial) serialOrderViolations++;
      lastSerial = m.serial;
      if (m.tag === expected) {
        delivered.push(m.tag);
        expected++;
        while (held.delete(expected)) delivered.push(expected++);
      } else if (m.tag > expected) {
        held.add(m.tag);
      }
      w.serverTun.hostSend(taggedUdp(serverIp, clientIp, expected, 80, 1, m.serial));
    };

    // Go-back-N sender on the client host.
    let base = 0;
    let next = 0;
    let serial = 0;
    let rto: Timer | undefined;
    let retransmissions = 0;
    const sizeOf = (tag: number) => 100 + ((tag * 37) % 1300);
    const transmit = (tag: number) =>
      c.tun.hostSend(taggedUdp(clientIp, serverIp, tag, sizeOf(tag), 0, serial++));
    const armRto = () => {
      rto?.cancel();
      rto = base < N ? w.clock.setTimer(RTO_MS, onRto) : undefined;
    };
    const onRto = () => {
      for (let t = base; t < next; t++) {
        transmit(t);
        retransmissions++;
      }
      armRto();
    };
    const fill = () => {
      while (next < N && next < base + WINDOW) transmit(next++);
    };
    c.tun.onHostPacket = (p) => {
      const m = readTaggedUdp(p);
      if (m?.kind !== 1) return;
      if (m.tag > base) {
        base = m.tag;
        fill();
        armRto();
      }
    };
    fill();
    armRto();
    await w.runUntil(() => base >= N, 3_600_000);
    rto?.cancel();

    assert.equal(delivered.length, N);
    assert.ok(
      delivered.every((t, i) => t === i),
      'the application sees every packet once, in order',
    );
    assert.equal(damaged, 0, 'no packet arrived damaged');
    assert.equal(serialOrderViolations, 0, 'transmissions arrive in the order they were sent, never twice');
    assert.ok(retransmissions > 0);

    // The faults were real, and the GRE channel dealt with them.
    const up = w.faults.toServer!.stats;
    assert.ok(up.dropped > 300 && up.reordered > 300 && up.duplicated > 100, JSON.stringify(up));
    const server = w.server.sessions();
    assert.equal(server.length, 1);
    const gre = c.client.stats!.gre; // the client's side: the return path's reordering and duplicates
    assert.ok(gre.rxReordered > 0 && gre.rxDuplicate > 0, JSON.stringify(gre));
    assert.ok(arrivals < serial, 'some transmissions were lost on the way');

    c.client.stop();
    await w.wait(c.outcome);
    await w.server.shutdown();
    assert.equal(w.clock.pendingTimers, 0);
  });
});
