/**
 * The RADIUS UDP driver on loopback: it sends what the engine says on one
 * connected socket per server, feeds replies back, and keeps the engine's
 * timer, so a silent first server is retried and then left for a second
 * one that answers. The second server is a few lines of test code signing
 * with `signResponse`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { describe, it } from 'node:test';
import { signResponse } from '../../src/crypto/radius.js';
import { RadiusUdpDriver } from '../../src/io/radius-udp.js';
import { RadiusClient, type RadiusClientAction } from '../../src/radius/radius-client.js';
import {
  decodeRadius,
  encodeRadius,
  getInteger,
  integerAttribute,
  RadiusAttr,
  RadiusCode,
  textAttribute,
} from '../../src/wire/radius/index.js';

async function bound(): Promise<{ socket: Socket; port: number; got: number }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return { socket, port: socket.address().port, got: 0 };
}

describe('RADIUS UDP driver', () => {
  it('retries a silent server on its timer, fails over to the next, and delivers the verified reply', async () => {
    const silent = await bound();
    const live = await bound();
    silent.socket.on('message', () => {
      silent.got++;
    });
    live.socket.on('message', (msg, rinfo) => {
      live.got++;
      const req = decodeRadius(new Uint8Array(msg));
      const reply = encodeRadius({
        code: RadiusCode.AccessAccept,
        identifier: req.identifier,
        attributes: [
          { type: RadiusAttr.MessageAuthenticator, value: new Uint8Array(16) },
          integerAttribute(RadiusAttr.SessionTimeout, 42),
        ],
      });
      signResponse(reply, 'two', req.authenticator);
      live.socket.send(reply, rinfo.port, rinfo.address);
    });
    const engine = new RadiusClient({
      servers: [
        { name: 'silent', secret: 'one' },
        { name: 'live', secret: 'two' },
      ],
      random: (n) => new Uint8Array(randomBytes(n)),
      timeoutMs: 100,
      retries: 1,
    });
    let driver: RadiusUdpDriver<RadiusClientAction> | undefined;
    try {
      const outcome = await new Promise<RadiusClientAction>((resolve, reject) => {
        const guard = setTimeout(() => reject(new Error('no outcome within 5 s')), 5000);
        RadiusUdpDriver.open(
          engine,
          [
            { host: '127.0.0.1', port: silent.port },
            { host: '127.0.0.1', port: live.port },
          ],
          (a) => {
            clearTimeout(guard);
            resolve(a);
          },
        ).then((d) => {
          driver = d;
          d.perform(
            engine.submit(d.now(), 1, {
              code: RadiusCode.AccessRequest,
              attributes: [textAttribute(RadiusAttr.UserName, 'bob')],
              userPassword: 'pw',
            }),
          );
        }, reject);
      });
      assert.equal(outcome.type, 'reply');
      assert.equal(outcome.type === 'reply' && getInteger(outcome.packet, RadiusAttr.SessionTimeout), 42);
      assert.equal(outcome.type === 'reply' && outcome.server, 1);
      assert.equal(silent.got, 2, 'first transmission and one retry');
      assert.equal(live.got, 1);
      assert.equal(engine.stats.failovers, 1);
      assert.equal(engine.nextDeadline(), undefined, 'nothing left for the timer');
    } finally {
      driver?.close();
      silent.socket.close();
      live.socket.close();
    }
  });
});
