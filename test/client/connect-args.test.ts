/**
 * `pptp-ts connect` argument handling: parseArgs strict with clear errors
 * (exit code 2), the --mppe and --auth vocabularies, the password sources
 * (never the command line), and the exit-code mapping of every failure.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConnectArgs, parseMppeSpec, readPassword, UsageError } from '../../src/cli/connect.js';
import { EXIT_CODE_TABLE, ExitCode, isRetryable } from '../../src/client/exit-codes.js';
import { outcomeOfCallDown, outcomeOfControlClose, outcomeOfPppFailure } from '../../src/client/outcome.js';
import type { PppFailureCode } from '../../src/ppp/unit.js';
import { PptpProtocolError } from '../../src/pptp/control-error.js';

const BIN = fileURLToPath(new URL('../../bin/pptp-ts.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pptp-ts-args-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('pptp-ts connect arguments', () => {
  it('defaults: MS-CHAP-v2 only, MPPE-128 required and stateless, host route on', () => {
    const c = parseConnectArgs(['vpn.example', '--user', 'alice']);
    assert.equal(c.options.server, 'vpn.example');
    assert.equal(c.options.user, 'alice');
    assert.deepEqual(c.options.auth, ['mschap-v2']);
    assert.deepEqual(c.options.mppe, { mode: 'required', bits: [128], stateful: false });
    assert.equal(c.options.hostRoute, true);
    assert.equal(c.options.defaultRoute, false);
    assert.deepEqual(c.options.routes, []);
    assert.equal(c.persist, false);
    assert.equal(c.maxfail, 10);
    assert.equal(c.options.localAddress, undefined, 'the route chooses the local address');
  });

  it('--local-address: the IPv4 address to connect (and send GRE) from', () => {
    assert.equal(
      parseConnectArgs(['srv', '--user', 'a', '--local-address', '198.18.1.2']).options.localAddress,
      '198.18.1.2',
    );
    assert.equal(
      parseConnectArgs(['srv', '--user', 'a', '--local-address=127.0.0.2']).options.localAddress,
      '127.0.0.2',
    );
  });

  it('takes pppd-named options', () => {
    const c = parseConnectArgs([
      '10.0.0.1',
      '--user=bob',
      '--ifname',
      'vpn0',
      '--mtu',
      '1400',
      '--route',
      '10.1.0.0/16',
      '--route',
      '192.0.2.7',
      '--defaultroute',
      '--usepeerdns',
      '--lcp-echo-interval',
      '10',
      '--persist',
      '--maxfail',
      '0',
      '--holdoff',
      '2.5',
      '--auth',
      'mschap-v2,pap',
      '--ignore-peer-window',
      '--ack-timeout-ms',
      '0',
      '--no-host-route',
    ]);
    assert.equal(c.options.ifname, 'vpn0');
    assert.equal(c.options.mtu, 1400);
    assert.deepEqual(c.options.routes, ['10.1.0.0/16', '192.0.2.7/32']);
    assert.equal(c.options.defaultRoute, true);
    assert.equal(c.options.usePeerDns, true);
    assert.equal(c.options.lcpEchoInterval, 10);
    assert.deepEqual(c.options.auth, ['mschap-v2', 'pap']);
    assert.deepEqual(c.options.gre, { ignorePeerWindow: true, ackTimeoutMs: 0 });
    assert.equal(c.options.hostRoute, false);
    assert.equal(c.persist, true);
    assert.equal(c.maxfail, 0);
    assert.equal(c.holdoff, 2.5);
  });

  for (const [args, re] of [
    [['srv', '--user', 'a', '--password', 'x'], /--password is not accepted/],
    [['srv', '--user', 'a', '--password=x'], /--password is not accepted/],
    [['srv', '--user', 'a', '--bogus'], /Unknown option '--bogus'/],
    [['--user', 'a'], /server .* is missing/],
    [['srv'], /--user NAME is required/],
    [['srv', 'extra', '--user', 'a'], /unexpected argument 'extra'/],
    [['srv', '--user', 'a', '--mtu', '100'], /--mtu: expected a whole number from 576/],
    [['srv', '--user', 'a', '--ack-timeout-ms', '-1'], /--ack-timeout-ms/],
    [
      ['srv', '--user', 'a', '--ack-timeout-ms', '20000'],
      /--ack-timeout-ms: expected a whole number from 0 to 10000, got '20000'/,
    ],
    [['srv', '--user', 'a', '--route', '10.0.0.0/33'], /--route: '10\.0\.0\.0\/33'/],
    [['srv', '--user', 'a', '--auth', 'eap'], /--auth: unknown method 'eap'/],
    [['srv', '--user', 'a', '--mppe', 'maybe'], /--mppe: 'maybe'/],
    [['srv', '--user', 'a', '--log-level', 'loud'], /--log-level/],
    [['srv', '--user', 'a', '--ifname', 'a name with spaces'], /--ifname/],
    [
      ['srv', '--user', 'a', '--local-address', '198.18.1.256'],
      /^--local-address: '198\.18\.1\.256' is not an IPv4 address/,
    ],
    [['srv', '--user', 'a', '--local-address', 'eth0'], /^--local-address: 'eth0' is not an IPv4 address/],
    [['srv', '--user', 'a', '--local-address', '::1'], /^--local-address: '::1' is not an IPv4 address/],
    [
      ['srv', '--user', 'a', '--local-address', '0.0.0.0'],
      /^--local-address: '0\.0\.0\.0' is in 0\.0\.0\.0\/8/,
    ],
    [['srv', '--user', 'a', '--local-address', '224.0.0.1'], /^--local-address: '224\.0\.0\.1' is multicast/],
    [
      ['srv', '--user', 'a', '--local-address', '255.255.255.255'],
      /^--local-address: '255\.255\.255\.255' is multicast/,
    ],
    [['srv', '--user', 'a', '--local-address'], /--local-address/],
  ] as const) {
    it(`refuses ${args.join(' ')}`, () => {
      assert.throws(
        () => parseConnectArgs(args),
        (e: unknown) => e instanceof UsageError && re.test(e.message),
      );
    });
  }

  it('--mppe vocabulary', () => {
    assert.deepEqual(parseMppeSpec('off'), { mode: 'off' });
    assert.deepEqual(parseMppeSpec('optional,40,128'), {
      mode: 'optional',
      bits: [40, 128],
      stateful: false,
    });
    assert.deepEqual(parseMppeSpec('128,stateful'), { mode: 'required', bits: [128], stateful: true });
    assert.deepEqual(parseMppeSpec('required'), { mode: 'required', bits: [128], stateful: false });
    assert.throws(() => parseMppeSpec('off,128'), UsageError);
  });

  it('reads the password from --password-file, else $PPTP_PASSWORD; never from elsewhere', async () => {
    const f = join(dir, 'pw');
    writeFileSync(f, 'from file\r\nsecond line\n');
    const withFile = parseConnectArgs(['srv', '--user', 'a', '--password-file', f]);
    assert.equal(await readPassword(withFile, { PPTP_PASSWORD: 'from env' }), 'from file');
    const noFile = parseConnectArgs(['srv', '--user', 'a']);
    assert.equal(await readPassword(noFile, { PPTP_PASSWORD: 'from env' }), 'from env');
    writeFileSync(join(dir, 'empty'), '\n');
    await assert.rejects(
      readPassword(parseConnectArgs(['srv', '--user', 'a', '--password-file', join(dir, 'empty')]), {}),
      /is empty/,
    );
    await assert.rejects(
      readPassword(parseConnectArgs(['srv', '--user', 'a', '--password-file', join(dir, 'missing')]), {}),
      /cannot read/,
    );
  });

  it('as a process: bad usage exits 2 with a one-line reason; --help lists the exit codes', () => {
    const bad = spawnSync(process.execPath, [BIN, 'connect', 'srv', '--user', 'a', '--wrong'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30_000,
    });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^pptp-ts connect: Unknown option '--wrong'/);
    const addr = spawnSync(
      process.execPath,
      [BIN, 'connect', 'srv', '--user', 'a', '--local-address', '10.1.2'],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 30_000,
      },
    );
    assert.equal(addr.status, 2);
    assert.equal(
      addr.stderr,
      "pptp-ts connect: --local-address: '10.1.2' is not an IPv4 address (a.b.c.d)\n(see pptp-ts connect --help)\n",
    );
    const nopw = spawnSync(process.execPath, [BIN, 'connect', 'srv', '--user', 'a'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PPTP_PASSWORD: '' },
      timeout: 30_000,
    });
    assert.equal(nopw.status, 2);
    assert.match(nopw.stderr, /no password/);
    const help = spawnSync(process.execPath, [BIN, 'connect', '--help'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(help.status, 0);
    for (const e of EXIT_CODE_TABLE)
      assert.ok(help.stdout.includes(`  ${String(e.code).padStart(2)}  ${e.meaning}`));
  });
});

describe('exit codes', () => {
  it('every code is distinct, and usage/setup/internal errors are not retried', () => {
    const codes = EXIT_CODE_TABLE.map((e) => e.code);
    assert.equal(new Set(codes).size, codes.length);
    assert.equal(isRetryable(ExitCode.Usage), false);
    assert.equal(isRetryable(ExitCode.Setup), false);
    assert.equal(isRetryable(ExitCode.AuthFailed), true);
    assert.equal(isRetryable(ExitCode.PeerSilent), true);
  });

  it('maps every PPP failure', () => {
    const expected: Record<PppFailureCode, ExitCode> = {
      'auth-failed': ExitCode.AuthFailed,
      'auth-refused': ExitCode.NegotiationFailed,
      'mppe-refused': ExitCode.MppeRefused,
      'mppe-unavailable': ExitCode.MppeRefused,
      'peer-silent': ExitCode.PeerSilent,
      loopback: ExitCode.Loopback,
      'peer-terminated': ExitCode.HangUp,
      closed: ExitCode.Ok,
      'lower-down': ExitCode.HangUp,
      'negotiation-failed': ExitCode.NegotiationFailed,
    };
    for (const [code, exit] of Object.entries(expected)) {
      assert.equal(outcomeOfPppFailure({ code: code as PppFailureCode, message: 'm' }).code, exit, code);
    }
    const mismatch = outcomeOfPppFailure({
      code: 'auth-failed',
      message: 'm',
      auth: {
        method: 'mschap-v2',
        role: 'peer',
        reason: 'authenticator-response-mismatch',
        detail: 'S= differs',
      },
    });
    assert.equal(mismatch.code, ExitCode.PeerAuthFailed);
    const wrong = outcomeOfPppFailure({
      code: 'auth-failed',
      message: 'm',
      auth: {
        method: 'mschap-v2',
        role: 'peer',
        reason: 'wrong-password',
        detail: 'd',
        error: 691,
        message: 'Go away',
      },
    });
    assert.equal(wrong.reason, 'authentication failed, wrong-password (E=691): Go away');
  });

  it('maps the ends of the control connection and of the call', () => {
    assert.equal(outcomeOfControlClose({ kind: 'transport-closed' }).code, ExitCode.HangUp);
    assert.equal(outcomeOfControlClose({ kind: 'echo-timeout' }).code, ExitCode.PeerSilent);
    assert.equal(outcomeOfControlClose({ kind: 'handshake-timeout' }).code, ExitCode.PeerSilent);
    assert.equal(
      outcomeOfControlClose({ kind: 'start-refused', resultCode: 4, errorCode: 0 }).code,
      ExitCode.NegotiationFailed,
    );
    assert.equal(
      outcomeOfControlClose({ kind: 'protocol-error', error: new PptpProtocolError(2, 'bad') }).code,
      ExitCode.NegotiationFailed,
    );
    assert.equal(
      outcomeOfCallDown({ kind: 'rejected', resultCode: 7, errorCode: 0, causeCode: 0 })?.reason,
      'the server refused the call: DoNotAccept (result 7, error 0)',
    );
    assert.equal(
      outcomeOfCallDown({
        kind: 'peer-disconnect',
        resultCode: 3,
        errorCode: 0,
        causeCode: 0,
        callStatistics: '',
      })?.code,
      ExitCode.HangUp,
    );
    assert.equal(outcomeOfCallDown({ kind: 'local-clear' }), undefined);
  });
});
