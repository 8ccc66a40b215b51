/**
 * ControlDriver write limits: a peer that sends Echo-Requests and never
 * reads makes the driver stop reading above the high-water mark and drop
 * the connection after the stall time-out or above the hard limit; a peer
 * that reads again is read from again.
 */
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/io/clock.js';
import type { TcpSocket } from '../../src/io/tcp.js';
import { ControlDriver } from '../../src/session/control-driver.js';
import { encodePptpMessage, PPTP_PROTOCOL_VERSION, PptpMessageType } from '../../src/wire/pptp/index.js';

/** A socket whose writes complete only when the test says so (the peer "reads"). */
class StuckSocket extends Duplex implements TcpSocket {
  readonly remoteAddress = '192.0.2.9';
  readonly localAddress = '192.0.2.2';
  private readonly pendingWrites: (() => void)[] = [];
  paused = 0;
  constructor() {
    super({ writableHighWaterMark: 4096 });
  }
  override _write(_c: Buffer, _e: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.pendingWrites.push(() => cb());
  }
  override _read(): void {}
  override pause(): this {
    this.paused++;
    return super.pause();
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  /** The peer reads everything queued. */
  drainAll(): void {
    for (const cb of this.pendingWrites.splice(0)) cb();
  }
}

const SCCRQ = encodePptpMessage({
  type: PptpMessageType.StartControlConnectionRequest,
  protocolVersion: PPTP_PROTOCOL_VERSION,
  framingCapabilities: 1,
  bearerCapabilities: 1,
  maximumChannels: 0,
  firmwareRevision: 1,
  hostName: '',
  vendorString: '',
});
const ECHO = encodePptpMessage({ type: PptpMessageType.EchoRequest, identifier: 7 });

function setUp(limits = { highWaterBytes: 4096, limitBytes: 65536, stallTimeoutMs: 10_000 }) {
  const clock = new ManualClock(0);
  const socket = new StuckSocket();
  const events = { overflows: [] as string[], closed: 0 };
  const driver = new ControlDriver(
    socket,
    { role: 'pac' },
    clock,
    { overflow: (d) => events.overflows.push(d), closed: () => events.closed++ },
    limits,
  );
  driver.start();
  socket.push(SCCRQ);
  return { clock, socket, driver, events };
}

async function tick(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

describe('ControlDriver write limits', () => {
  it('stops reading above the high-water mark and drops a peer that stays stuck', async () => {
    const { clock, socket, driver, events } = setUp();
    await tick();
    // 400 Echo-Requests → 400 × 20 bytes of replies, none read by the peer.
    socket.push(Buffer.concat(Array.from({ length: 400 }, () => ECHO)));
    await tick();
    assert.equal(driver.readPaused, true);
    assert.ok(socket.writableLength > 4096 && socket.writableLength < 65536, `${socket.writableLength}`);
    assert.equal(socket.isPaused(), true);
    assert.deepEqual(events.overflows, []);
    clock.advance(10_000);
    await tick();
    assert.equal(events.overflows.length, 1);
    assert.match(events.overflows[0]!, /read nothing of \d+ bytes for 10000 ms/);
    assert.equal(socket.destroyed, true);
    assert.equal(events.closed, 1);
    assert.equal(driver.timerCount, 0);
  });

  it('reads again once the peer has read what was queued', async () => {
    const { clock, socket, driver, events } = setUp();
    await tick();
    socket.push(Buffer.concat(Array.from({ length: 400 }, () => ECHO)));
    await tick();
    assert.equal(driver.readPaused, true);
    for (let i = 0; i < 1000 && socket.writableLength > 0; i++) {
      socket.drainAll();
      await tick();
    }
    assert.equal(driver.readPaused, false);
    assert.equal(socket.isPaused(), false);
    clock.advance(60_000);
    assert.deepEqual(events.overflows, []);
    driver.destroy();
  });

  it('drops the connection at once above the hard limit', async () => {
    const { socket, events } = setUp({ highWaterBytes: 1024, limitBytes: 2048, stallTimeoutMs: 10_000 });
    await tick();
    // One read of 200 requests: replies pass the hard limit before reading can pause.
    socket.push(Buffer.concat(Array.from({ length: 200 }, () => ECHO)));
    await tick();
    assert.equal(events.overflows.length, 1);
    assert.match(events.overflows[0]!, /written and not read by the peer/);
    assert.equal(socket.destroyed, true);
  });
});
