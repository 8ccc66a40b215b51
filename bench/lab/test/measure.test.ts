/**
 * The bypass check: a run whose figures the tunnel devices (and the
 * underlay) did not carry must fail.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BypassError, type CounterCheck, checkCounters } from '../measure.js';

const c = (txBytes: number, rxBytes: number, txPackets = 0, rxPackets = 0) => ({
  txBytes,
  rxBytes,
  txPackets,
  rxPackets,
});
const tunnel = { clientDevice: 'tun0', serverDevice: 'tun1' };

describe('checkCounters', () => {
  const carried: CounterCheck = {
    clientDevice: c(1_050_000, 20_000, 800, 400),
    serverDevice: c(20_000, 1_050_000, 400, 800),
    clientUnderlay: c(1_100_000, 25_000, 800, 400),
  };

  it('accepts a TCP run the devices carried (headers make them count more)', () => {
    checkCounters('TCP', tunnel, 'veth0', carried, { bytes: 1_000_000 });
  });

  it('accepts a UDP run by datagrams', () => {
    checkCounters('UDP', tunnel, 'veth0', carried, { packets: 800 });
  });

  it('fails when the client tunnel device did not send it', () => {
    const bypass = { ...carried, clientDevice: c(300, 20_000, 3, 400) };
    assert.throws(
      () => checkCounters('TCP 1 stream(s)', tunnel, 'veth0', bypass, { bytes: 1_000_000 }),
      (e: unknown) => {
        assert.ok(e instanceof BypassError);
        assert.match(
          e.message,
          /TCP 1 stream\(s\): not carried by the tunnel: client tun0 tx carried 300 bytes/,
        );
        return true;
      },
    );
  });

  it('fails when the server tunnel device did not receive it', () => {
    const bypass = { ...carried, serverDevice: c(20_000, 10, 400, 1) };
    assert.throws(
      () => checkCounters('UDP', tunnel, 'veth0', bypass, { packets: 800 }),
      /server tun1 rx carried 1 packets/,
    );
  });

  it('fails when an encapsulating tunnel never crossed the underlay', () => {
    const local = { ...carried, clientUnderlay: c(0, 0) };
    assert.throws(
      () => checkCounters('TCP', tunnel, 'veth0', local, { bytes: 1_000_000 }),
      /underlay veth0 tx/,
    );
  });

  it('does not ask the underlay twice when the tunnel is the underlay (plain veth)', () => {
    const veth = { clientDevice: 'veth0', serverDevice: 'veth0' };
    checkCounters('TCP', veth, 'veth0', { ...carried, clientUnderlay: c(0, 0) }, { bytes: 1_000_000 });
  });
});
