/**
 * Migration from pptpd on real interfaces: a pptpd.conf, the pppd options
 * file it names and a chap-secrets of our own (laid out as the Debian
 * package lays them out), `pptp-ts serve --pptpd-conf` in one namespace,
 * `pptp-ts connect` in another: the warnings name what is left out, the
 * client gets an address from remoteip, the DNS from ms-dns, MPPE-128 as
 * required, and pings the server's localip through the tunnel.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { createLab, isRoot } from '../helpers/netns.js';
import {
  PPTP_TS,
  SERVER_IP,
  startClient,
  tempDir,
  twoHosts,
  waitExit,
  waitUp,
  writePassword,
} from './tunnel-lab.js';

describe('pptp-ts serve --pptpd-conf: a pptpd set-up, connected to and pinged through', () => {
  const lab = createLab('tunpptpd');
  const dir = tempDir('pptpd');
  let ns: { server: string; client: string };

  before(async () => {
    assert.ok(isRoot, 'this test needs root (namespaces, TUN, raw GRE)');
    ns = await twoHosts(lab);
  });

  it('runs from pptpd.conf + pptpd-options + chap-secrets; a client connects and pings localip', async () => {
    const options = join(dir, 'pptpd-options');
    writeFileSync(
      options,
      [
        '# as the Debian package ships it, plus DNS and keep-alive',
        'name pptpd',
        'refuse-pap',
        'refuse-chap',
        'refuse-mschap',
        'require-mschap-v2',
        'require-mppe-128',
        'ms-dns 10.88.5.1',
        'proxyarp',
        'nodefaultroute',
        'lock',
        'nobsdcomp',
        'novj',
        'novjccomp',
        'nologfd',
        'lcp-echo-interval 2',
        'lcp-echo-failure 3',
        '',
      ].join('\n'),
    );
    const conf = join(dir, 'pptpd.conf');
    writeFileSync(
      conf,
      [
        `option ${options}`,
        'logwtmp',
        'bcrelay vsrv',
        `listen ${SERVER_IP}`,
        'connections 4',
        'localip 10.88.5.1',
        'remoteip 10.88.5.20-24,10.88.5.30',
        '',
      ].join('\n'),
    );
    const secrets = join(dir, 'chap-secrets');
    // The server column is the options file's `name`, as pppd matches it.
    writeFileSync(secrets, '# client server secret addresses\nalice pptpd "correct horse" *\n', {
      mode: 0o600,
    });

    const server = lab.spawn(ns.server, [...PPTP_TS, 'serve', '--pptpd-conf', conf, '--secrets', secrets]);
    await server.waitFor(/listening on /, 30_000);
    assert.match(server.stdout(), new RegExp(`listening on ${SERVER_IP.replaceAll('.', '\\.')}:1723`));
    const warnings = server
      .stderr()
      .split('\n')
      .filter((l) => / option '/.test(l))
      .map((l) => l.split(' (ignored)')[0]);
    assert.deepEqual(warnings, [
      "pptpd.conf: option 'logwtmp' is not supported",
      "pptpd.conf: option 'bcrelay' is not supported",
      "pptpd-options: option 'proxyarp' is not needed",
    ]);
    // remoteip has 6 addresses and connections is 4: pptpd's rule, said once.
    assert.match(server.stderr(), /remoteip lists 6 addresses: only the first 4 are used/);

    const client = startClient(lab, ns.client, [
      '--user',
      'alice',
      '--password-file',
      writePassword(dir, 'correct horse'),
      '--mppe',
      'required,128',
      '--usepeerdns',
      '--resolv-conf',
      join(dir, 'resolv.conf'),
    ]);
    const up = await waitUp(client);
    assert.equal(up.local, '10.88.5.20', 'the first address of remoteip');
    assert.equal(up.remote, '10.88.5.1', 'localip');
    assert.deepEqual(up.dns, ['10.88.5.1'], 'ms-dns');
    assert.equal(up.auth, 'MS-CHAP-v2');
    assert.equal(up.mppe, '128-bit stateless');
    const ping = await lab.exec(ns.client, ['ping', '-c', '3', '-i', '0.2', '-W', '2', '10.88.5.1']);
    assert.match(ping.stdout, /3 received/);

    await client.kill();
    await server.kill();
    const r = await waitExit(server);
    assert.notEqual(r.signal, 'SIGKILL', 'the server stopped on SIGTERM');
  });

  it('the Debian-style set-up without localip/remoteip does not start, with one line saying what to add', async () => {
    const conf = join(dir, 'bare.conf');
    writeFileSync(conf, `option ${join(dir, 'pptpd-options')}\nlogwtmp\n`);
    const r = await lab.exec(ns.server, [...PPTP_TS, 'serve', '--pptpd-conf', conf], { allowFail: true });
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /pptpd\.conf: localip is not set: pptp-ts allocates addresses itself and needs both/,
    );
  });
});
