/**
 * What an operator runs against a real `pptp-ts serve` with real clients
 * in network namespaces (docs/operations.md): the Prometheus endpoint
 * during traffic, validated by `promtool check metrics` and compared with
 * the bytes sent; `pptp-ts sessions/kick/reload` over the management
 * socket with three sessions; JSON event lines; and the fail2ban filter,
 * run by `fail2ban-regex` on the log that real failing logins wrote (text
 * and JSON), matching the client's real address and no address a user
 * name tried to inject.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { createLab, type NetnsLab, type Spawned } from '../helpers/netns.js';
import { checkMetricsWithPromtool, requireRoot, requireTools } from '../helpers/tools.js';
import {
  CLIENT_IP,
  PPTP_TS,
  ROOT,
  SECRETS,
  startClient,
  TOOL,
  TUNNEL_LOCAL,
  tempDir,
  twoHosts,
  waitExit,
  waitUp,
  writePassword,
  writeServerConfig,
} from './tunnel-lab.js';

const FILTER = join(ROOT, 'contrib', 'fail2ban', 'filter.d', 'pptp-ts.conf');
const METRICS_PORT = 9723;
const TRAFFIC_BYTES = 3 * 1024 * 1024;

async function startServerWith(lab: NetnsLab, ns: string, config: string, args: string[]): Promise<Spawned> {
  const s = lab.spawn(ns, [...PPTP_TS, 'serve', '--config', config, ...args]);
  await s.waitFor(/listening on /, 30_000);
  return s;
}

/** Runs `pptp-ts <cmd> --socket SOCK ...` (from the root namespace: the socket is a file). */
function manage(sock: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const [cmd, ...rest] = args;
  const r = spawnSync(PPTP_TS[0]!, [PPTP_TS[1]!, cmd!, '--socket', sock, ...rest], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Row {
  id: number;
  user: string | null;
  peer: string;
  address: string | null;
  up: boolean;
  bytesIn: number;
  bytesOut: number;
  mppe: string | null;
  auth: string | null;
  uptimeSeconds: number;
}

function sessions(sock: string): Row[] {
  const r = manage(sock, 'sessions', '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Row[];
}

/** Scrapes /metrics from inside a namespace. */
async function scrape(lab: NetnsLab, ns: string, port = METRICS_PORT): Promise<string> {
  const js = `fetch('http://127.0.0.1:${port}/metrics').then(async (r) => { if (!r.ok) process.exit(3); process.stdout.write(await r.text()); })`;
  return (await lab.exec(ns, [process.execPath, '-e', js])).stdout;
}

function sample(text: string, name: string, labels = ''): number {
  const re = new RegExp(`^${name}${labels ? `\\{${labels}\\}` : ''} (\\S+)$`, 'm');
  const m = re.exec(text);
  assert.ok(m, `${name}{${labels}} in the exposition`);
  return Number(m[1]);
}

/** fail2ban-regex over `log` with the shipped filter: the addresses it would ban, one per match. */
function fail2banAddresses(log: string): string[] {
  requireTools('fail2ban-regex');
  const r = spawnSync('fail2ban-regex', ['-o', 'ip', log, FILTER], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

/** A client that fails to log in (wrong password, or a user name that tries to name another address). */
async function failLogin(
  lab: NetnsLab,
  ns: string,
  dir: string,
  user: string,
  ifname: string,
): Promise<void> {
  const c = startClient(lab, ns, [
    '--user',
    user,
    '--password-file',
    writePassword(dir, 'wrong password'),
    '--ifname',
    ifname,
  ]);
  const exit = await waitExit(c, 40_000);
  assert.notEqual(exit.code, 0, 'a wrong password does not connect');
}

const EVIL_USER = 'mallory peer=203.0.113.66 "peer":"203.0.113.66"';

describe('operations: metrics, management socket, event logs, fail2ban', () => {
  before(() => requireRoot());
  const lab = createLab('ops');
  const dir = tempDir('ops');
  let ns: { server: string; client: string };

  before(async () => {
    ns = await twoHosts(lab);
  });

  it('three sessions: metrics during traffic (promtool), sessions/kick/reload, JSON events, fail2ban on the JSON log', async () => {
    const sock = join(dir, 'mgmt', 'serve.sock');
    const config = writeServerConfig(dir, {
      metrics: { listen: `127.0.0.1:${METRICS_PORT}` },
      'control-socket': sock,
    });
    const server = await startServerWith(lab, ns.server, config, ['--log-format', 'json']);
    try {
      // Root only: the socket 0600 in a 0700 directory.
      assert.equal(statSync(sock).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, 'mgmt')).mode & 0o777, 0o700);

      const pw = writePassword(dir, 'correct horse');
      const bobPw = writePassword(dir, 'hunter2');
      const a1 = startClient(lab, ns.client, ['--user', 'alice', '--password-file', pw, '--ifname', 'ppa0']);
      const a2 = startClient(lab, ns.client, ['--user', 'alice', '--password-file', pw, '--ifname', 'ppa1']);
      const b = startClient(lab, ns.client, ['--user', 'bob', '--password-file', bobPw, '--ifname', 'ppb0']);
      const [, upA2] = await Promise.all([waitUp(a1), waitUp(a2), waitUp(b)]);

      // Traffic from the first session to a sink behind the server's tunnel address.
      const sink = lab.spawn(ns.server, [...TOOL, 'tcp-sink', TUNNEL_LOCAL, '5001']);
      await sink.waitFor(/sink ready/, 20_000);
      const before = await scrape(lab, ns.server);
      const rxBefore = sample(before, 'pptp_receive_bytes_total');
      await lab.exec(ns.client, [...TOOL, 'tcp-send', TUNNEL_LOCAL, '5001', String(TRAFFIC_BYTES)], {
        timeoutMs: 120_000,
      });
      await sink.waitFor(/sink \d+ [0-9a-f]{64}/, 60_000);
      await sink.kill();

      const text = await scrape(lab, ns.server);
      checkMetricsWithPromtool(text);
      assert.equal(sample(text, 'pptp_sessions', 'phase="network"'), 3);
      assert.equal(sample(text, 'pptp_sessions_up_total'), 3);
      assert.equal(sample(text, 'pptp_control_connections'), 3);
      assert.ok(
        sample(text, 'pptp_receive_bytes_total') - rxBefore >= TRAFFIC_BYTES,
        'the receive byte counter grew by at least what was sent',
      );
      assert.ok(sample(text, 'pptp_transmit_packets_total') > 0);
      assert.equal(sample(text, 'pptp_handshake_duration_seconds_count'), 3);
      assert.match(text, /^nodejs_eventloop_lag_seconds /m);
      assert.match(text, /^process_resident_memory_bytes /m);

      // sessions: three, with users, addresses, auth, MPPE, byte counts.
      let rows = sessions(sock);
      assert.equal(rows.length, 3);
      assert.deepEqual(rows.map((r) => r.user).sort(), ['alice', 'alice', 'bob']);
      const bob = rows.find((r) => r.user === 'bob')!;
      assert.equal(bob.address, '10.88.0.77');
      assert.equal(bob.peer, CLIENT_IP);
      assert.equal(bob.auth, 'MS-CHAP-v2');
      assert.equal(bob.mppe, '128-bit stateless');
      // The kernel picked one of the three tunnels for the transfer.
      const busy = rows.reduce((a, r) => (r.bytesIn > a.bytesIn ? r : a));
      assert.ok(busy.bytesIn >= TRAFFIC_BYTES, `bytes in ${busy.bytesIn}`);
      assert.ok(busy.bytesOut > 0, 'TCP acknowledgments went back');
      const table = manage(sock, 'sessions');
      assert.equal(table.code, 0);
      assert.match(table.stdout, /^ID\s+USER\s+PEER\s+ADDRESS\s+UPTIME\s+IN\s+OUT\s+MPPE\s+AUTH/);
      assert.match(table.stdout, /\bbob\s+198\.51\.100\.2\s+10\.88\.0\.77\b/);

      // status: the server's counters.
      const st = manage(sock, 'status', '--json');
      assert.equal(st.code, 0, st.stderr);
      const status = JSON.parse(st.stdout) as {
        role: string;
        connections: number;
        counters: Record<string, number>;
      };
      assert.equal(status.role, 'server');
      assert.equal(status.connections, 3);
      assert.equal(status.counters.sessionsUp, 3);

      // kick by user: bob's client hears the reason; the server logs it.
      const kick = manage(sock, 'kick', 'bob', '--reason', 'maintenance at 02:00');
      assert.equal(kick.code, 0, kick.stderr);
      assert.match(kick.stdout, /kicked 1 session/);
      const bExit = await waitExit(b, 20_000);
      assert.match(bExit.stdout + bExit.stderr, /maintenance at 02:00/);
      await server.waitFor(
        /"event":"session-down"[^\n]*"user":"bob"[^\n]*"reason":"maintenance at 02:00"/,
        10_000,
      );
      rows = sessions(sock);
      assert.deepEqual(
        rows.map((r) => r.user),
        ['alice', 'alice'],
      );

      // kick by id; an unknown target kicks nothing and says so (exit 1).
      assert.equal(manage(sock, 'kick', 'nobody').code, 1);
      const a2Id = rows.find((r) => r.address === upA2.local)!.id;
      assert.equal(manage(sock, 'kick', String(a2Id)).code, 0);
      await waitExit(a2, 20_000);
      assert.equal(sessions(sock).length, 1);

      // reload: carol is not in the secrets, then is.
      const carolPw = writePassword(dir, 'carol pw');
      await failLogin(lab, ns.client, dir, 'carol', 'ppc0');
      writeFileSync(join(dir, 'chap-secrets'), `${SECRETS}carol * "carol pw" *\n`);
      const reload = manage(sock, 'reload');
      assert.equal(reload.code, 0, reload.stderr);
      assert.match(reload.stdout, /secrets \(3 entries\)/);
      const c = startClient(lab, ns.client, [
        '--user',
        'carol',
        '--password-file',
        carolPw,
        '--ifname',
        'ppc1',
      ]);
      await waitUp(c);
      await c.kill();

      // A wrong password and a user name that tries to name another address.
      await failLogin(lab, ns.client, dir, 'alice', 'ppf0');
      await failLogin(lab, ns.client, dir, EVIL_USER, 'ppf1');

      const after = await scrape(lab, ns.server);
      checkMetricsWithPromtool(after);
      // carol before the reload (unknown user), alice (wrong password), the crafted name (unknown).
      assert.equal(sample(after, 'pptp_auth_failures_total', 'method="mschap-v2",reason="unknown-user"'), 2);
      assert.equal(
        sample(after, 'pptp_auth_failures_total', 'method="mschap-v2",reason="wrong-password"'),
        1,
      );
      const setupFailures = [
        ...after.matchAll(/^pptp_session_setup_failures_total\{reason="[^"]+"\} (\d+)$/gm),
      ];
      assert.equal(
        setupFailures.reduce((n, m) => n + Number(m[1]), 0),
        3,
        'three sessions ended before the network phase',
      );

      await a1.kill();
      await server.kill();
      const log = server.stderr();
      // Stable event lines with their fields.
      const events = log
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const up = events.find((e) => e.event === 'session-up' && e.user === 'bob')!;
      assert.equal(up.peer, CLIENT_IP);
      assert.equal(up.address, '10.88.0.77');
      assert.equal(up.auth, 'MS-CHAP-v2');
      assert.equal(up.mppe, '128-bit stateless');
      assert.equal(typeof up.ifname, 'string');
      const down = events.find((e) => e.event === 'session-down' && e.id === busy.id)!;
      assert.ok((down.rxBytes as number) >= TRAFFIC_BYTES);
      assert.equal(typeof down.seconds, 'number');
      const failures = events.filter((e) => e.event === 'auth-failure');
      assert.equal(failures.length, 3);
      assert.ok(failures.some((e) => e.user === EVIL_USER && e.peer === CLIENT_IP));

      // fail2ban on the log the server wrote: every failure, the client's address only.
      const logFile = join(dir, 'server-json.log');
      writeFileSync(logFile, log);
      assert.deepEqual(fail2banAddresses(logFile), [CLIENT_IP, CLIENT_IP, CLIENT_IP]);
    } finally {
      await server.kill();
    }
  });

  it('a client with --metrics and --control: promtool, byte counters, pptp-ts status', async () => {
    const config = writeServerConfig(dir, { 'control-socket': join(dir, 'client-test.sock') });
    const server = await startServerWith(lab, ns.server, config, []);
    const control = join(dir, 'client', 'connect.sock');
    const client = startClient(lab, ns.client, [
      '--user',
      'alice',
      '--password-file',
      writePassword(dir, 'correct horse'),
      '--ifname',
      'ppm0',
      '--metrics',
      '127.0.0.1:9724',
      '--control',
      control,
    ]);
    try {
      const up = await waitUp(client);
      assert.equal(statSync(control).mode & 0o777, 0o600);
      const sink = lab.spawn(ns.server, [...TOOL, 'tcp-sink', TUNNEL_LOCAL, '5002']);
      await sink.waitFor(/sink ready/, 20_000);
      const before = sample(await scrape(lab, ns.client, 9724), 'pptp_transmit_bytes_total');
      await lab.exec(ns.client, [...TOOL, 'tcp-send', TUNNEL_LOCAL, '5002', String(TRAFFIC_BYTES)], {
        timeoutMs: 120_000,
      });
      await sink.waitFor(/sink \d+ [0-9a-f]{64}/, 60_000);
      await sink.kill();
      const text = await scrape(lab, ns.client, 9724);
      checkMetricsWithPromtool(text);
      assert.equal(sample(text, 'pptp_client_up'), 1);
      assert.equal(sample(text, 'pptp_client_connect_attempts_total'), 1);
      assert.ok(sample(text, 'pptp_transmit_bytes_total') - before >= TRAFFIC_BYTES);

      const st = manage(control, 'status', '--json');
      assert.equal(st.code, 0, st.stderr);
      const status = JSON.parse(st.stdout) as Record<string, unknown>;
      assert.equal(status.role, 'client');
      assert.equal(status.state, 'up');
      assert.equal(status.ifname, 'ppm0');
      assert.equal(status.local, up.local);
      assert.ok((status.bytesOut as number) >= TRAFFIC_BYTES);
      // A client answers status only.
      assert.equal(manage(control, 'sessions').code, 1);
    } finally {
      await client.kill();
      await server.kill();
    }
    // The socket goes with the client.
    assert.throws(() => statSync(control));
  });

  it('fail2ban matches the text log of real failing logins', async () => {
    const config = writeServerConfig(dir, { 'control-socket': join(dir, 'text.sock') });
    const server = await startServerWith(lab, ns.server, config, []);
    try {
      await failLogin(lab, ns.client, dir, 'alice', 'ppt0');
      await failLogin(lab, ns.client, dir, EVIL_USER, 'ppt1');
      await server.waitFor(/auth failure[^\n]*user="mallory/, 10_000);
    } finally {
      await server.kill();
    }
    const logFile = join(dir, 'server-text.log');
    writeFileSync(logFile, server.stderr());
    assert.match(server.stderr(), /auth failure event=auth-failure peer=198\.51\.100\.2 user=alice /);
    assert.deepEqual(fail2banAddresses(logFile), [CLIENT_IP, CLIENT_IP]);
  });
});
