/** The command line of bench/lab/run.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLabArgs } from '../run.js';

describe('parseLabArgs', () => {
  it('defaults to nothing set', () => {
    assert.deepEqual(parseLabArgs([]), {});
  });

  it('reads every option', () => {
    assert.deepEqual(
      parseLabArgs([
        '--rounds',
        '5',
        '--duration',
        '10',
        '--omit',
        '2',
        '--only',
        'veth, openvpn',
        '--metrics',
        'tcp1,udp64',
        '--mtu',
        '1400',
        '--udp-rate',
        '2G',
        '--ping-count',
        '50',
        '--ping-interval',
        '0.002',
        '--allow-busy',
        '--busy-threshold',
        '12.5',
        '--out',
        '/tmp/x',
      ]),
      {
        rounds: 5,
        durationSec: 10,
        omitSec: 2,
        contenders: ['veth', 'openvpn'],
        metrics: ['tcp1', 'udp64'],
        mtu: 1400,
        udpRateBps: 2e9,
        pingCount: 50,
        pingIntervalSec: 0.002,
        allowBusy: true,
        busyThresholdPct: 12.5,
        outDir: '/tmp/x',
      },
    );
    assert.deepEqual(parseLabArgs(['--no-write']), { outDir: null });
    assert.equal(parseLabArgs(['--rounds', '2', '--help']), 'help');
  });

  it('rejects unknown options, missing values, bad numbers and unknown metrics', () => {
    assert.throws(() => parseLabArgs(['--fast']), /unknown option --fast/);
    assert.throws(() => parseLabArgs(['--rounds']), /--rounds needs a value/);
    assert.throws(() => parseLabArgs(['--rounds', '--allow-busy']), /--rounds needs a value/);
    assert.throws(() => parseLabArgs(['--rounds', '2.5']), /not a whole number/);
    assert.throws(
      () => parseLabArgs(['--ping-interval', 'fast']),
      /--ping-interval: not a number of seconds: fast/,
    );
    assert.throws(() => parseLabArgs(['--duration', '-1']), /not a whole number/);
    assert.throws(() => parseLabArgs(['--metrics', 'tcp1,tcp8']), /unknown tcp8/);
    assert.throws(() => parseLabArgs(['--udp-rate', 'fast']), /not a rate/);
  });
});
