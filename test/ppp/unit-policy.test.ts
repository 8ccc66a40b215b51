/**
 * The unit's `networkPolicy`: what the source that authenticated the peer
 * (a RADIUS Access-Accept) says about one link, read when the network phase
 * begins: its DNS servers replace `msDns`, MS-MPPE-Encryption-Types narrow
 * the key lengths, MS-MPPE-Encryption-Policy 2 makes MPPE mandatory.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PppUnitOptions } from '../../src/ppp/unit.js';
import { parseIpv4 } from '../../src/wire/bytes.js';
import { LinkPair, SECRETS } from './unit-harness.js';

const ip = (s: string) => parseIpv4(s)!;

const SERVER: PppUnitOptions = {
  lookup: SECRETS,
  localAddress: ip('192.168.77.1'),
  remoteAddress: ip('192.168.77.10'),
  msDns: [ip('192.168.77.1')],
  requireMschapV2: true,
  // MPPE optional, every key length: the policy decides.
  requireMppe: false,
};
const CLIENT: PppUnitOptions = { user: 'alice', password: 'secret', usePeerDns: true, requireMppe: false };

describe('unit: per-link network policy', () => {
  it('without a policy the server settings hold (128-bit, ms-dns)', () => {
    const pair = new LinkPair(CLIENT, SERVER);
    pair.start();
    assert.ok(pair.run(() => pair.bothPassing()));
    assert.equal(pair.units.a.ccpNegotiated?.tx?.keyBits, 128);
    assert.deepEqual(pair.units.a.ipcpNegotiated?.dns, [ip('192.168.77.1')]);
  });

  it('DNS servers replaced, key lengths narrowed to 40', () => {
    const pair = new LinkPair(CLIENT, {
      ...SERVER,
      networkPolicy: () => ({ dns: [ip('10.0.0.53'), ip('10.0.0.54')], mppeKeyBits: [40] }),
    });
    pair.start();
    assert.ok(pair.run(() => pair.bothPassing()));
    assert.deepEqual(pair.units.a.ccpNegotiated?.tx, { keyBits: 40, stateless: true });
    assert.deepEqual(pair.units.b.ccpNegotiated?.rx, { keyBits: 40, stateless: true });
    assert.deepEqual(pair.units.a.ipcpNegotiated?.dns, [ip('10.0.0.53'), ip('10.0.0.54')]);
  });

  it('MPPE required by the policy: a client that refuses MPPE does not get an unencrypted link', () => {
    const pair = new LinkPair(
      { ...CLIENT, requireMppe: undefined, nomppe: true },
      { ...SERVER, networkPolicy: () => ({ mppeRequired: true }) },
    );
    pair.start();
    assert.equal(
      pair.run(() => pair.bothPassing()),
      false,
      'IP never passes',
    );
    assert.equal(pair.units.b.ccpNegotiated, undefined);
  });

  it('no allowed key length left while MPPE is required: the link ends with mppe-unavailable', () => {
    const pair = new LinkPair(CLIENT, {
      ...SERVER,
      requireMppe: undefined,
      requireMppe128: true,
      networkPolicy: () => ({ mppeKeyBits: [40] }),
    });
    pair.start();
    assert.ok(pair.run(() => pair.bothDead()));
    assert.equal(pair.dead('b')?.failure.code, 'mppe-unavailable');
  });
});
