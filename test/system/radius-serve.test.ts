/**
 * `pptp-ts serve` authenticating through a real FreeRADIUS 3.2 (users in its
 * `files` users file), with `pptp-ts connect` as the client, both in network
 * namespaces (FreeRADIUS beside the server, on the server namespace's
 * loopback). One FreeRADIUS for the file; one server per configuration.
 *
 * - PAP and CHAP-MD5 without MPPE, MS-CHAPv1 and MS-CHAPv2 with MPPE off,
 *   40 and 128: the tunnel comes up and a ping passes; with MPPE the
 *   server's log says the keys came from the Access-Accept (the server
 *   derives none itself for a RADIUS user), so the traffic that passes was
 *   encrypted with FreeRADIUS's MS-MPPE keys.
 * - A wrong password: the client's error shows FreeRADIUS's Reply-Message.
 * - RADIUS down, slow (3 s, a relay in front of FreeRADIUS, with a 1 s
 *   time-out), and a wrong shared secret: the client gets a clean
 *   authentication failure well within the auth time-out, and the server's
 *   log says why in one line.
 * - A RADIUS server whose Access-Accept lacks Message-Authenticator (RFC
 *   3579 §3.2, Blast-RADIUS; a stand-in in test/system/radius-no-ma.ts): the
 *   reply is dropped, the user gets a clean failure, the log says why in one
 *   line, and a session authenticated from chap-secrets stays up meanwhile.
 * - Idle-Timeout (RFC 2865 §5.28) from FreeRADIUS: the session stays up
 *   while traffic flows, ends a few seconds after it stops (LCP keep-alives
 *   running all along), and the accounting Stop says Idle-Timeout.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type FreeRadius, startFreeRadius } from '../helpers/freeradius.js';
import { createLab, type NetnsLab, type Spawned } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';
import {
  eventually,
  PPTP_TS,
  ROOT,
  startClient,
  TUNNEL_LOCAL,
  tempDir,
  twoHosts,
  waitExit,
  waitUp,
  writePassword,
  writeServerConfig,
} from './tunnel-lab.js';

const SECRET = 'serve-radius-S3cret';
const RELAY_PORT = 18_120;
const RELAY = [process.execPath, '--import', 'tsx', join(ROOT, 'test', 'system', 'udp-delay.ts')];
const PASSWORD = 'alice-Radius-Pa55';
const IDLE_PASSWORD = 'idler-Radius-Pa55';
const USERS = `alice\tCleartext-Password := "${PASSWORD}"
\tReply-Message = "Hello alice"

idler\tCleartext-Password := "${IDLE_PASSWORD}"
\tIdle-Timeout := 3
`;
const NO_MA_PORT = 18_121;
const NO_MA = [process.execPath, '--import', 'tsx', join(ROOT, 'test', 'system', 'radius-no-ma.ts')];

/** Every method on, MPPE optional with every key length: the client picks. */
const PPP = {
  'require-pap': true,
  'require-chap': true,
  'require-mschap': true,
  'require-mschap-v2': true,
  'require-mppe-128': false,
};

/** `pptp-ts serve` in `ns`, waited for with room for a loaded machine. */
async function startServer(lab: NetnsLab, ns: string, configPath: string): Promise<Spawned> {
  const s = lab.spawn(ns, [...PPTP_TS, 'serve', '--config', configPath]);
  await s.waitFor(/listening on /, 120_000);
  return s;
}

function radiusConfig(port: number, secret = SECRET, timeout = 1) {
  return {
    radius: {
      auth: [{ address: `127.0.0.1:${port}`, secret }],
      timeout,
      retries: 1,
      'nas-identifier': 'pptp-ts-system-test',
    },
  };
}

describe('pptp-ts serve with RADIUS authentication (FreeRADIUS)', () => {
  before(() => requireRoot('ip', 'ping'));
  const lab = createLab('radserve');
  const dir = tempDir('radserve');
  let ns: { server: string; client: string };
  let fr: FreeRadius;

  before(async () => {
    ns = await twoHosts(lab);
    fr = await startFreeRadius({
      secret: SECRET,
      users: USERS,
      netns: { lab, ns: ns.server, address: '127.0.0.1' },
      readyTimeoutMs: 90_000,
    });
  });
  after(async () => {
    await fr?.stop();
  });

  const matrix: { auth: string; mppe: string; shows: string; mppeShows: string }[] = [
    { auth: 'pap', mppe: 'off', shows: 'PAP', mppeShows: 'off' },
    { auth: 'chap', mppe: 'off', shows: 'CHAP', mppeShows: 'off' },
    ...(['mschap', 'mschap-v2'] as const).flatMap((auth) =>
      (['off', 'required,40', 'required,128'] as const).map((mppe) => ({
        auth,
        mppe,
        shows: auth === 'mschap' ? 'MS-CHAP' : 'MS-CHAP-v2',
        mppeShows: mppe === 'off' ? 'off' : `${mppe.slice(9)}-bit stateless`,
      })),
    ),
  ];

  it('every method (and MPPE off/40/128 with MS-CHAP) authenticates through RADIUS; MPPE keys from the Accept; a wrong password shows the Reply-Message', async () => {
    const server = await startServer(
      lab,
      ns.server,
      writeServerConfig(dir, { ...radiusConfig(fr.authPort, SECRET, 3), secrets: undefined, ppp: PPP }, ''),
    );
    try {
      for (const m of matrix) {
        const client = startClient(lab, ns.client, [
          '--user',
          'alice',
          '--password-file',
          writePassword(dir, PASSWORD),
          '--auth',
          m.auth,
          '--mppe',
          m.mppe,
          '--ifname',
          'pptpr0',
        ]);
        try {
          const up = await waitUp(client, 60_000);
          assert.equal(up.auth, m.shows, `${m.auth}/${m.mppe}`);
          assert.equal(up.mppe, m.mppeShows, `${m.auth}/${m.mppe}`);
          const ping = await lab.exec(ns.client, ['ping', '-c', '2', '-i', '0.2', '-W', '3', TUNNEL_LOCAL]);
          assert.match(ping.stdout, /2 received/, `${m.auth}/${m.mppe}: traffic passes`);
        } finally {
          await client.kill();
        }
      }
      const log = server.stdout() + server.stderr();
      const accepts = log.split('\n').filter((l) => l.includes('radius: Access-Accept'));
      assert.equal(accepts.length, matrix.length, log);
      // FreeRADIUS's mschap module sends keys for MS-CHAP (MS-CHAP-MPPE-Keys for v1, MS-MPPE-Send/Recv-Key for v2).
      assert.equal(accepts.filter((l) => l.includes('access-accept')).length, 6, accepts.join('\n'));

      const wrong = startClient(lab, ns.client, [
        '--user',
        'alice',
        '--password-file',
        writePassword(dir, 'not-the-password'),
        '--ifname',
        'pptpr0',
      ]);
      const r = await waitExit(wrong, 60_000);
      assert.notEqual(r.code, 0);
      assert.match(r.stdout + r.stderr, /Wrong password for alice/);
      assert.match(server.stdout() + server.stderr(), /radius: Access-Reject/);
    } finally {
      await server.kill();
    }
  });

  for (const failure of ['down', 'slow (3 s)', 'wrong secret'] as const) {
    it(`RADIUS ${failure}: a clean authentication failure in time, one log line saying why`, async () => {
      // Nothing listens on port 9 in the server's namespace; the relay answers 3 s late.
      const port = failure === 'down' ? 9 : failure === 'wrong secret' ? fr.authPort : RELAY_PORT;
      const secret = failure === 'wrong secret' ? 'not-the-secret' : SECRET;
      const relay =
        failure === 'slow (3 s)'
          ? lab.spawn(ns.server, [...RELAY, String(RELAY_PORT), String(fr.authPort), '3000'])
          : undefined;
      await relay?.waitFor(/relay ready/, 60_000);
      const server = await startServer(
        lab,
        ns.server,
        writeServerConfig(dir, { ...radiusConfig(port, secret), secrets: undefined }, ''),
      );
      try {
        const client = startClient(lab, ns.client, [
          '--user',
          'alice',
          '--password-file',
          writePassword(dir, PASSWORD),
          '--ifname',
          'pptpr0',
        ]);
        const r = await waitExit(client, 60_000);
        assert.notEqual(r.code, 0);
        assert.match(r.stdout + r.stderr, /auth/i);
        // Ended by the RADIUS failure (2 tries of 1 s), not by the 15 s auth time-out. (Wall-clock time
        // is no proof on a loaded machine: the client's own start-up can take longer than that.)
        assert.doesNotMatch(server.stdout() + server.stderr(), /no authentication in time/);
        const log = server.stdout() + server.stderr();
        assert.match(log, /radius: no reply from 1 server\(s\) after 2 tries each: user refused/);
        // With a wrong secret FreeRADIUS (require_message_authenticator) drops our request unanswered, so
        // it ends as a time-out too; a reply under a wrong secret is dropped by us (test/server/radius-auth.test.ts).
      } finally {
        await server.kill();
        await relay?.kill();
      }
    });
  }

  it('RADIUS answering without Message-Authenticator (Blast-RADIUS): reply dropped, a clean failure, one log line; a secrets session stays up', async () => {
    const responder = lab.spawn(ns.server, [...NO_MA, String(NO_MA_PORT), SECRET]);
    await responder.waitFor(/responder ready/, 60_000);
    // bob is in chap-secrets (looked up first); alice only in RADIUS, here the responder.
    const server = await startServer(
      lab,
      ns.server,
      writeServerConfig(
        dir,
        {
          ...radiusConfig(NO_MA_PORT),
          radius: { ...radiusConfig(NO_MA_PORT).radius, order: ['secrets', 'radius'] },
        },
        'bob * hunter2 10.88.0.77\n',
      ),
    );
    try {
      const bob = startClient(lab, ns.client, [
        '--user',
        'bob',
        '--password-file',
        writePassword(dir, 'hunter2'),
        '--ifname',
        'pptpb0',
      ]);
      try {
        await waitUp(bob, 60_000);
        const alice = startClient(lab, ns.client, [
          '--user',
          'alice',
          '--password-file',
          writePassword(dir, PASSWORD),
          '--ifname',
          'pptpr0',
        ]);
        const r = await waitExit(alice, 60_000);
        assert.notEqual(r.code, 0);
        assert.match(r.stdout + r.stderr, /auth/i);
        assert.match(responder.stdout(), /answered alice/, 'the responder did answer');
        const log = server.stdout() + server.stderr();
        assert.doesNotMatch(log, /no authentication in time/);
        assert.doesNotMatch(log, /radius: Access-Accept/, 'the unsigned Accept is never believed');
        assert.match(log, /radius reply dropped: no Message-Authenticator/);
        // The one line that ends the attempt says why.
        assert.match(
          log,
          /radius: no reply from 1 server\(s\) after 2 tries each \(replies dropped: no Message-Authenticator\): user refused/,
        );
        // bob's session went on untouched.
        const ping = await lab.exec(ns.client, ['ping', '-c', '2', '-i', '0.2', '-W', '3', TUNNEL_LOCAL]);
        assert.match(ping.stdout, /2 received/);
        assert.equal(bob.child.exitCode, null, 'bob still connected');
      } finally {
        await bob.kill();
      }
    } finally {
      await server.kill();
      await responder.kill();
    }
  });

  it('Idle-Timeout from FreeRADIUS: up while traffic flows, ended 3 s or so after it stops, accounting Stop says Idle-Timeout', async () => {
    const server = await startServer(
      lab,
      ns.server,
      writeServerConfig(
        dir,
        {
          ...radiusConfig(fr.authPort, SECRET, 3),
          radius: {
            ...radiusConfig(fr.authPort, SECRET, 3).radius,
            accounting: [{ address: `127.0.0.1:${fr.acctPort}`, secret: SECRET }],
          },
          secrets: undefined,
        },
        '',
      ),
    );
    try {
      const client = startClient(lab, ns.client, [
        '--user',
        'idler',
        '--password-file',
        writePassword(dir, IDLE_PASSWORD),
        '--ifname',
        'pptpr0',
      ]);
      try {
        await waitUp(client, 60_000);
        // 8 s of traffic, one packet each way every 0.5 s: well past the 3 s limit, and the session stays.
        const ping = await lab.exec(ns.client, ['ping', '-c', '16', '-i', '0.5', '-W', '3', TUNNEL_LOCAL]);
        assert.match(ping.stdout, /16 received/);
        const stopped = Date.now();
        const r = await waitExit(client, 60_000);
        const after = (Date.now() - stopped) / 1000;
        assert.notEqual(r.code, 0, 'the server ended it');
        // At least the limit (less the last ping's half-interval); the precise window is tested on a virtual clock.
        assert.ok(after >= 2.4, `ended ${after} s after the traffic stopped`);
        const log = server.stdout() + server.stderr();
        assert.match(log, /idle timeout: call cleared/);
        assert.match(log, /seconds=3\b/);
        await eventually(
          () =>
            /Acct-Status-Type = Stop[\s\S]*?Acct-Terminate-Cause = Idle-Timeout/.test(fr.accountingDetail()),
          30_000,
          'an accounting Stop with Acct-Terminate-Cause Idle-Timeout',
        );
        const stop = fr
          .accountingDetail()
          .split(/\n\s*\n/)
          .find((b) => b.includes('Acct-Status-Type = Stop'));
        assert.match(stop ?? '', /User-Name = "idler"/);
        assert.match(stop ?? '', /Acct-Terminate-Cause = Idle-Timeout/);
      } finally {
        await client.kill();
      }
    } finally {
      await server.kill();
    }
  });
});
