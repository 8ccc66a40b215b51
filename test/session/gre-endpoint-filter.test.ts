/**
 * GreEndpoint keeps its socket's Call ID filter (src/io/types.ts
 * `setCallIdAllowed`) equal to the Call IDs of the attached calls, counting
 * calls that share a Call ID with different peers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/io/clock.js';
import type { GreSocket, PacketHandlers } from '../../src/io/types.js';
import { GreChannel } from '../../src/pptp/gre-channel.js';
import { GreEndpoint } from '../../src/session/gre-endpoint.js';

class FilteringSocket implements GreSocket {
  readonly allowed = new Set<number>();
  calls: string[] = [];
  filteredPackets = 7;
  start(_h: PacketHandlers): void {}
  send(): boolean {
    return true;
  }
  flush(): void {}
  close(): void {}
  setCallIdAllowed(callId: number, allowed: boolean): void {
    this.calls.push(`${allowed ? '+' : '-'}${callId}`);
    if (allowed) this.allowed.add(callId);
    else this.allowed.delete(callId);
  }
}

function member(callId: number, peerAddress: number) {
  const channel = new GreChannel(
    { localAddress: 1, peerAddress, callId, peerCallId: 9 },
    { transmit() {}, deliver() {} },
  );
  return { channel, afterInput() {}, inBatch: false };
}

describe('GreEndpoint: the socket Call ID filter follows the attached calls', () => {
  it('allows a Call ID while at least one call uses it, and reports what the socket filtered', () => {
    const socket = new FilteringSocket();
    const ep = new GreEndpoint(socket, new ManualClock());
    const a = member(100, 0x0a000001);
    const b = member(100, 0x0a000002); // same Call ID, another peer
    const c = member(200, 0x0a000001);
    ep.attach(a);
    ep.attach(b);
    ep.attach(c);
    assert.deepEqual([...socket.allowed].sort(), [100, 200]);
    ep.detach(a);
    assert.deepEqual([...socket.allowed].sort(), [100, 200], 'b still uses 100');
    ep.detach(b);
    ep.detach(b); // twice: no underflow
    assert.deepEqual([...socket.allowed], [200]);
    ep.detach(c);
    assert.deepEqual([...socket.allowed], []);
    assert.deepEqual(socket.calls, ['+100', '+200', '-100', '-200']);
    assert.equal(ep.counters.rxFiltered, 7);
  });
});
