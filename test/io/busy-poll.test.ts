/**
 * The busy-poll's settings (src/io/busy-poll.ts) and the two places a user
 * gives them: the server's `busy-poll` key and the client's `--busy-poll`.
 * The addon's own checks and the spin itself: test/system/io-busy-poll.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConnectArgs, UsageError } from '../../src/cli/connect.js';
import { parseProfile, profileArgs } from '../../src/cli/profile.js';
import {
  BUSY_POLL_MAX_SPIN_MICROS,
  BUSY_POLL_MAX_TOTAL_MICROS,
  busyPollSettings,
  parseBusyPoll,
} from '../../src/io/busy-poll.js';
import { validateServerConfig } from '../../src/server/config.js';

describe('busyPollSettings', () => {
  it('bounds each wake-up at 4 spin windows unless told, capped at the addon maximum', () => {
    assert.deepEqual(busyPollSettings(200), { spinMicros: 200, maxMicros: 800 });
    assert.deepEqual(busyPollSettings(200, 200), { spinMicros: 200, maxMicros: 200 });
    assert.deepEqual(busyPollSettings(200, 5000), { spinMicros: 200, maxMicros: 5000 });
    assert.deepEqual(busyPollSettings(BUSY_POLL_MAX_SPIN_MICROS), {
      spinMicros: BUSY_POLL_MAX_SPIN_MICROS,
      maxMicros: 4 * BUSY_POLL_MAX_SPIN_MICROS,
    });
    assert.equal(BUSY_POLL_MAX_TOTAL_MICROS, 100_000);
  });

  it('is off with a zero spin, whatever the bound', () => {
    assert.deepEqual(busyPollSettings(0), { spinMicros: 0, maxMicros: 0 });
    assert.deepEqual(busyPollSettings(0, 500), { spinMicros: 0, maxMicros: 0 });
  });

  it('refuses a spin or bound out of range, fractional or below the spin, naming the value', () => {
    for (const [spin, max] of [
      [-1, undefined],
      [1.5, undefined],
      [BUSY_POLL_MAX_SPIN_MICROS + 1, undefined],
      [Number.NaN, undefined],
      [200, 199],
      [200, 200.5],
      [200, BUSY_POLL_MAX_TOTAL_MICROS + 1],
    ] as const) {
      assert.throws(() => busyPollSettings(spin, max), RangeError, `${spin}/${max}`);
    }
    assert.throws(() => busyPollSettings(200, 100), /200\.\.100000: 100/);
  });
});

describe('parseBusyPoll (SPIN[/MAX])', () => {
  it('reads a spin alone or with its bound', () => {
    assert.deepEqual(parseBusyPoll('300'), { spinMicros: 300, maxMicros: 1200 });
    assert.deepEqual(parseBusyPoll('300/2000'), { spinMicros: 300, maxMicros: 2000 });
    assert.deepEqual(parseBusyPoll(' 0 '), { spinMicros: 0, maxMicros: 0 });
  });

  it('refuses anything else', () => {
    for (const bad of ['', 'fast', '-5', '1e3', '300/', '/300', '300/200', '300/2000/1', '0x10', '20000']) {
      assert.throws(() => parseBusyPoll(bad), RangeError, bad);
    }
  });
});

describe('pptp-ts connect --busy-poll', () => {
  const base = ['198.51.100.1', '--user', 'u'];
  it('is absent unless given, and absent when given as 0', () => {
    assert.equal(parseConnectArgs(base).busyPoll, undefined);
    assert.equal(parseConnectArgs([...base, '--busy-poll', '0']).busyPoll, undefined);
  });

  it('carries SPIN and MAX', () => {
    assert.deepEqual(parseConnectArgs([...base, '--busy-poll', '250']).busyPoll, {
      spinMicros: 250,
      maxMicros: 1000,
    });
    assert.deepEqual(parseConnectArgs([...base, '--busy-poll=250/400']).busyPoll, {
      spinMicros: 250,
      maxMicros: 400,
    });
  });

  it('is a usage error when malformed, naming the flag', () => {
    assert.throws(
      () => parseConnectArgs([...base, '--busy-poll', 'lots']),
      (e: unknown) => {
        assert.ok(e instanceof UsageError);
        assert.match(e.message, /^--busy-poll: /);
        return true;
      },
    );
    assert.throws(() => parseConnectArgs([...base, '--busy-poll', '99999']), UsageError);
  });

  it('comes from a profile as a number or a SPIN/MAX string', () => {
    const p = parseProfile(
      JSON.stringify({ server: 's', user: 'u', 'password-file': '/p', 'busy-poll': 300 }),
      'p.json',
    );
    assert.deepEqual(profileArgs(p).slice(-2), ['--busy-poll', '300']);
    const q = parseProfile(
      JSON.stringify({ server: 's', user: 'u', 'password-file': '/p', 'busy-poll': '300/900' }),
      'p.json',
    );
    assert.deepEqual(parseConnectArgs(profileArgs(q)).busyPoll, { spinMicros: 300, maxMicros: 900 });
  });
});

describe('server config busy-poll', () => {
  const minimal = { 'local-ip': '10.99.0.1', pool: '10.99.0.10-20', secrets: '/etc/ppp/chap-secrets' };
  it('is off unless set; max-us defaults to 4 × spin-us', () => {
    assert.deepEqual(validateServerConfig(minimal)['busy-poll'], { 'spin-us': 0, 'max-us': 0 });
    assert.deepEqual(validateServerConfig({ ...minimal, 'busy-poll': { 'spin-us': 300 } })['busy-poll'], {
      'spin-us': 300,
      'max-us': 1200,
    });
    assert.deepEqual(
      validateServerConfig({ ...minimal, 'busy-poll': { 'spin-us': 300, 'max-us': 500 } })['busy-poll'],
      { 'spin-us': 300, 'max-us': 500 },
    );
  });

  it('refuses bad values, naming the key', () => {
    for (const bad of [
      { 'spin-us': -1 },
      { 'spin-us': 2.5 },
      { 'spin-us': 10_001 },
      { 'spin-us': 300, 'max-us': 200 },
      { 'spin-us': 300, 'max-us': 100_001 },
      { 'spin-us': 300, extra: 1 },
      300,
    ]) {
      assert.throws(
        () => validateServerConfig({ ...minimal, 'busy-poll': bad }),
        /busy-poll/,
        JSON.stringify(bad),
      );
    }
  });
});
