/**
 * Migration from pptpd (src/server/pptpd-conf.ts): the files the Debian
 * `pptpd` package installs (fetched with `apt-get download pptpd` and
 * unpacked with `dpkg-deb -x`, nothing installed), files of our own with
 * every pptpd.conf keyword and every pppd option the converter knows, the
 * ip-specification syntax, pppd's meaning of the auth and MPPE options, and
 * `pptp-ts serve --pptpd-conf ... --print-config` as a process.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, validateServerConfig } from '../../src/server/config.js';
import { parsePoolSpec } from '../../src/server/ip-pool.js';
import {
  convertPptpd,
  expandIpSpecification,
  PPPD_HONOURED_OPTIONS,
  PPPD_UNSUPPORTED_OPTIONS,
  PPTPD_UNSUPPORTED_OPTIONS,
  poolSpecOf,
  pppdWords,
  pptpdOptionFile,
} from '../../src/server/pptpd-conf.js';
import { ipv4ToString } from '../../src/wire/bytes.js';

const BIN = fileURLToPath(new URL('../../bin/pptp-ts.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pptp-ts-pptpd-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const path = (n: string) => join(dir, n);

const spec = (s: string) => expandIpSpecification(s).map(ipv4ToString);
const conf = (lines: string[]) => `${lines.join('\n')}\n`;
const BASE = ['option /etc/ppp/pptpd-options', 'localip 10.0.0.1', 'remoteip 10.0.0.2-4'];

describe('pptpd ip-specification (pptpd.conf(5) NOTES)', () => {
  it('lists, last-octet ranges and ranges in any octet, in the order written', () => {
    assert.deepEqual(spec('192.168.0.234-238,192.168.0.245'), [
      '192.168.0.234',
      '192.168.0.235',
      '192.168.0.236',
      '192.168.0.237',
      '192.168.0.238',
      '192.168.0.245',
    ]);
    assert.deepEqual(spec('192.168.0-1.2'), ['192.168.0.2', '192.168.1.2']);
    assert.deepEqual(spec('10.0.0.9,10.0.0.1'), ['10.0.0.9', '10.0.0.1']);
    assert.equal(expandIpSpecification('192.168.0-255.2').length, 256);
  });

  it('refuses what pptpd refuses: backwards ranges ("234-8"), spaces, octets over 255, huge lists', () => {
    for (const bad of [
      '192.168.0.234-8',
      '192.168.0.1, 192.168.0.2',
      '192.168.0.256',
      '192.168.0',
      '10.0-255.0-255.0-255',
      '1.2.3.4,',
    ])
      assert.throws(() => expandIpSpecification(bad), ConfigError, bad);
  });

  it('poolSpecOf gives a pool spec that config.ts reads back to the same addresses', () => {
    for (const s of [
      '192.168.0.234-238,192.168.0.245',
      '10.0.0.255-10.0.1.3'.replace('-10.0.1.3', ''),
      '192.168.0-3.7,10.1.1.1-9',
    ]) {
      const a = expandIpSpecification(s);
      assert.deepEqual(parsePoolSpec(poolSpecOf(a)), a, s);
    }
    assert.equal(
      poolSpecOf(expandIpSpecification('192.168.0.234-238,192.168.0.245')),
      '192.168.0.234-192.168.0.238,192.168.0.245',
    );
  });
});

describe('pppd options file words (pppd(8) OPTIONS FILES)', () => {
  it('comments, quotes, escapes, several options a line', () => {
    assert.deepEqual(pppdWords('name pptpd refuse-pap # a comment\nms-dns 10.0.0.1\n"quoted word" a\\ b\n'), [
      'name',
      'pptpd',
      'refuse-pap',
      'ms-dns',
      '10.0.0.1',
      'quoted word',
      'a b',
    ]);
    assert.throws(() => pppdWords('name "open'), /unterminated/);
  });
});

describe('the Debian pptpd package files', () => {
  let debConf = '';
  let debOptions = '';
  before(() => {
    // Fetch the package (no install): the same files `apt-get install pptpd` puts in /etc.
    const dl = spawnSync('apt-get', ['download', 'pptpd'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    const deb = readdirSync(dir).find((f) => /^pptpd_.*\.deb$/.test(f));
    assert.ok(deb, `apt-get download pptpd failed (needs Debian's apt sources): ${dl.stderr}`);
    const x = spawnSync('dpkg-deb', ['-x', join(dir, deb), join(dir, 'deb')], { encoding: 'utf8' });
    assert.equal(x.status, 0, x.stderr);
    debConf = readFileSync(join(dir, 'deb/etc/pptpd.conf'), 'utf8');
    debOptions = readFileSync(join(dir, 'deb/etc/ppp/pptpd-options'), 'utf8');
  });

  it('as installed: no localip/remoteip, so one line saying what to add', () => {
    assert.equal(pptpdOptionFile(debConf), '/etc/ppp/pptpd-options');
    assert.throws(
      () => convertPptpd({ conf: debConf, options: debOptions, optionsName: 'pptpd-options' }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message ===
          "pptpd.conf: localip is not set: pptp-ts allocates addresses itself and needs both (e.g. 'localip 192.168.0.1' and 'remoteip 192.168.0.234-238,192.168.0.245')",
    );
  });

  it("with its own '(Recommended)' localip/remoteip lines uncommented: the config, and a warning for logwtmp and proxyarp only", () => {
    const edited = debConf
      .replace('#localip 192.168.0.1\n', 'localip 192.168.0.1\n')
      .replace('#remoteip 192.168.0.234-238,192.168.0.245\n', 'remoteip 192.168.0.234-238,192.168.0.245\n');
    assert.notEqual(edited, debConf);
    const r = convertPptpd({ conf: edited, options: debOptions, optionsName: 'pptpd-options' });
    assert.deepEqual(r.json, {
      name: 'pptpd',
      'local-ip': '192.168.0.1',
      pool: '192.168.0.234-192.168.0.238,192.168.0.245',
      secrets: '/etc/ppp/chap-secrets',
      limits: { 'max-sessions': 100 },
      ppp: {
        'require-mschap-v2': true,
        'require-mschap': false,
        'require-chap': false,
        'require-pap': false,
        'require-mppe-128': true,
        'require-mppe-40': false,
        'ms-ignore-domain': false,
      },
    });
    assert.deepEqual(
      r.warnings.map((w) => w.replace(/ \(ignored\).*$/, '')),
      ["pptpd.conf: option 'logwtmp' is not supported", "pptpd-options: option 'proxyarp' is not needed"],
    );
    assert.equal(r.config.ppp['require-mppe-128'], true);
    assert.equal(r.config.pool, '192.168.0.234-192.168.0.238,192.168.0.245');
    // Every option word of the Debian file is known: honoured, mapped or warned about, none unknown.
    assert.ok(!r.warnings.some((w) => w.includes('unknown')));
  });
});

describe('pptpd.conf: every keyword', () => {
  const options = 'require-mschap-v2\nrequire-mppe-128\n';
  const run = (lines: string[]) => convertPptpd({ conf: conf(lines), options, optionsName: 'opts' });

  it('honoured: option, localip, remoteip, listen, connections, debug', () => {
    const r = run([
      'option /x/opts',
      'localip 10.1.0.1',
      'remoteip 10.1.0.10-12',
      'listen 192.0.2.5',
      'connections 2',
      'debug',
    ]);
    assert.equal(r.optionFile, '/x/opts');
    assert.equal(r.config['local-ip'], '10.1.0.1');
    assert.equal(r.config.listen, '192.0.2.5');
    assert.equal(r.config.limits['max-sessions'], 2);
    assert.equal(r.config.log.level, 'debug');
    // pptpd uses only the first `connections` addresses of remoteip.
    assert.equal(r.config.pool, '10.1.0.10-10.1.0.11');
    assert.deepEqual(r.warnings, [
      'pptpd.conf: remoteip lists 3 addresses: only the first 2 are used, as pptpd does (connections 2)',
    ]);
  });

  it('named in a warning, one line each: every pptpd.conf(5) and pptpd(8) keyword pptp-ts does not honour', () => {
    const lines = [
      ...BASE,
      'logwtmp',
      'bcrelay eth1',
      'delegate',
      'noipparam',
      'stimeout 10',
      'vrf blue',
      'pidfile /run/p.pid',
      'speed 115200',
      'ppp /usr/sbin/pppd',
      'frobnicate 3',
    ];
    const r = run(lines);
    // noipparam is among the lines but honoured: no warning.
    const names = ['logwtmp', 'bcrelay', 'delegate', 'stimeout', 'vrf', 'pidfile', 'speed', 'ppp'];
    assert.deepEqual(Object.keys(PPTPD_UNSUPPORTED_OPTIONS).sort(), [...names].sort());
    assert.equal(r.warnings.length, names.length + 1);
    for (const [i, n] of names.entries())
      assert.ok(r.warnings[i]!.startsWith(`pptpd.conf: option '${n}' is not `), r.warnings[i]);
    assert.equal(
      r.warnings[names.indexOf('bcrelay')]!.split(' (ignored)')[0],
      "pptpd.conf: option 'bcrelay' is not supported",
    );
    assert.equal(r.warnings.at(-1), "pptpd.conf: option 'frobnicate' is unknown (ignored)");
    assert.ok(r.warnings.every((w) => !w.includes('\n')));
  });

  it('localip with several addresses: the first, said once; comments and blank lines are skipped', () => {
    const r = run([
      '# a comment',
      '',
      'option /x/opts  # trailing comment',
      'localip 10.2.0.1-5',
      'remoteip 10.2.1.1-9',
    ]);
    assert.equal(r.config['local-ip'], '10.2.0.1');
    assert.deepEqual(r.warnings, [
      'pptpd.conf: localip lists 5 addresses: pptp-ts uses one local address for every session (10.2.0.1)',
    ]);
  });

  it('bad values: one line naming the line and the key', () => {
    assert.throws(
      () => run([...BASE, 'connections many']),
      /pptpd.conf line 4: connections 'many' is not a number/,
    );
    assert.throws(
      () => run([...BASE, 'listen nowhere']),
      /pptpd.conf line 4: listen 'nowhere' is not an IPv4 address/,
    );
    assert.throws(() => run([...BASE, 'logwtmp yes']), /pptpd.conf line 4: 'logwtmp' takes no value/);
    assert.throws(() => run(['option /x/opts', 'localip 10.0.0.1']), /remoteip is not set/);
    assert.throws(
      () => run(['option /x/opts', 'localip 10.0.0.1', 'remoteip 10.0.0.9-2']),
      /ends before it starts/,
    );
    assert.throws(
      () => convertPptpd({ conf: conf(BASE) }),
      /option file \/etc\/ppp\/pptpd-options was not read/,
    );
  });
});

describe('pppd options: every option the converter knows', () => {
  const run = (options: string, extra: string[] = []) =>
    convertPptpd({ conf: conf([...BASE, ...extra]), options, optionsName: 'pptpd-options' });

  it('mapped to config keys', () => {
    const r = run(
      [
        'name vpn-gw',
        'ms-dns 10.0.0.53',
        'ms-dns 10.0.0.54',
        'ms-wins 10.0.0.60',
        'require-mschap-v2',
        'require-mschap',
        'require-mppe',
        'mppe-stateful',
        'lcp-echo-interval 20',
        'lcp-echo-failure 3',
        'mtu 1400',
        'mru 1410',
        'debug',
        '+ipv6',
        'ip-up-script /etc/ppp/up.sh',
        'ip-down-script /etc/ppp/down.sh',
        'chapms-strip-domain',
      ].join('\n'),
    );
    assert.deepEqual(r.warnings, []);
    const c = r.config;
    assert.equal(c.name, 'vpn-gw');
    assert.deepEqual(c['ms-dns'], ['10.0.0.53', '10.0.0.54']);
    assert.deepEqual(c['ms-wins'], ['10.0.0.60']);
    assert.deepEqual(
      [c.ppp['require-mschap-v2'], c.ppp['require-mschap'], c.ppp['require-chap'], c.ppp['require-pap']],
      [true, true, false, false],
    );
    assert.deepEqual(
      [c.ppp['require-mppe-128'], c.ppp['require-mppe-40'], c.ppp.nomppe, c.ppp['mppe-stateful']],
      [true, true, false, true],
    );
    assert.deepEqual(
      [c.ppp['lcp-echo-interval'], c.ppp['lcp-echo-failure'], c.ppp.mtu, c.ppp.mru],
      [20, 3, 1400, 1410],
    );
    assert.equal(c.log.level, 'debug');
    assert.equal(c.ppp.ipv6, true);
    assert.deepEqual(c.hooks, { 'ip-up': '/etc/ppp/up.sh', 'ip-down': '/etc/ppp/down.sh' });
    assert.equal(c.ppp['ms-ignore-domain'], true);
    // The JSON is a config serve --config accepts, and gives the same.
    assert.deepEqual(validateServerConfig(JSON.parse(JSON.stringify(r.json))), c);
  });

  it('honoured as they are: no warning, nothing changes', () => {
    const plain = run('require-mschap-v2 require-mppe-128');
    const honoured = Object.keys(PPPD_HONOURED_OPTIONS);
    assert.ok(honoured.length >= 15);
    const r = run(`require-mschap-v2 require-mppe-128 ${honoured.join(' ')}`);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.json, plain.json);
  });

  it('named in a warning, one line each, arguments skipped with their option', () => {
    const unsupported = Object.entries(PPPD_UNSUPPORTED_OPTIONS);
    assert.ok(unsupported.length >= 60);
    const words = unsupported.flatMap(([o, [arity]]) => [o, ...Array.from({ length: arity }, () => 'ARG')]);
    const r = run(`require-mschap-v2 require-mppe-128 ${words.join(' ')}`);
    assert.equal(r.warnings.length, unsupported.length, r.warnings.join('\n'));
    for (const [i, [o, [arity]]] of unsupported.entries()) {
      const shown = arity ? `${o} ARG` : o;
      assert.ok(r.warnings[i]!.startsWith(`pptpd-options: option '${shown}' `), r.warnings[i]);
      assert.match(r.warnings[i]!, /\(ignored\)/);
    }
  });

  it('unknown options, serial-line words and local:remote pairs', () => {
    const r = run('require-mschap-v2 frobnicate 115200 /dev/ttyS0 10.8.0.100:10.8.0.200');
    assert.deepEqual(r.warnings, [
      "pptpd-options: option 'frobnicate' is unknown (ignored)",
      "pptpd-options: option '115200' has no meaning without a serial line (ignored)",
      "pptpd-options: option '/dev/ttyS0' has no meaning without a serial line (ignored)",
      "pptpd-options: option '10.8.0.100:10.8.0.200': the remote address is not used (ignored): clients get addresses from remoteip",
    ]);
    // Without localip in pptpd.conf, the local part of the pair is the local address.
    const noLocal = convertPptpd({
      conf: conf(['option /o', 'remoteip 10.0.0.2-4']),
      options: '10.8.0.100:',
    });
    assert.equal(noLocal.config['local-ip'], '10.8.0.100');
  });

  it("pppd's auth rules: without require-* every method not refused; PAP/CHAP only with nomppe", () => {
    const all = run('');
    assert.deepEqual(
      [
        all.config.ppp['require-mschap-v2'],
        all.config.ppp['require-mschap'],
        all.config.ppp['require-chap'],
        all.config.ppp['require-pap'],
      ],
      [true, true, false, false],
    );
    assert.deepEqual(all.warnings, [
      'pptpd-options: CHAP and PAP not offered: MPPE keys come from MS-CHAP (add nomppe to allow them, unencrypted)',
    ]);
    // MPPE not required by default, as in pppd.
    assert.equal(all.config.ppp['require-mppe-128'], false);
    const clear = run('nomppe refuse-mschap refuse-mschap-v2');
    assert.deepEqual(
      [
        clear.config.ppp['require-mschap-v2'],
        clear.config.ppp['require-mschap'],
        clear.config.ppp['require-chap'],
        clear.config.ppp['require-pap'],
      ],
      [false, false, true, true],
    );
    assert.equal(clear.config.ppp.nomppe, true);
    const plusMinus = run('-pap -chap +mschap-v2');
    assert.deepEqual(
      [plusMinus.config.ppp['require-mschap-v2'], plusMinus.config.ppp['require-mschap']],
      [true, false],
    );
    assert.throws(
      () => run('refuse-pap refuse-chap refuse-mschap refuse-mschap-v2'),
      /every authentication method is refused/,
    );
  });

  it('MPPE in both syntaxes', () => {
    const m = (o: string) => {
      const p = run(`require-mschap-v2 ${o}`).config.ppp;
      return [p['require-mppe-128'], p['require-mppe-40'], p.nomppe, p['mppe-stateful']];
    };
    assert.deepEqual(m('require-mppe-40'), [false, true, false, false]);
    assert.deepEqual(m('require-mppe nomppe-40'), [true, false, false, false]);
    assert.deepEqual(m('mppe required,stateless,no40,no56'), [true, false, false, false]);
    assert.deepEqual(m('mppe required,stateful'), [true, true, false, true]);
    assert.deepEqual(m('require-mppe-128 nomppe'), [false, false, true, false]);
    assert.throws(() => run('require-mschap-v2 require-mppe-40 nomppe-40'), /every key length is refused/);
  });

  it('bad values: one line naming the option; MTU outside 576..1500 is clamped with a warning', () => {
    assert.throws(
      () => run('ms-dns dns.example'),
      /pptpd-options: ms-dns 'dns.example' is not an IPv4 address/,
    );
    assert.throws(
      () => run('lcp-echo-interval soon'),
      /pptpd-options: lcp-echo-interval 'soon' is not a number/,
    );
    assert.throws(() => run('name'), /pptpd-options: option 'name' needs a value/);
    const r = run('require-mschap-v2 mtu 1600');
    assert.equal(r.config.ppp.mtu, 1500);
    assert.deepEqual(r.warnings, [
      "pptpd-options: option 'mtu 1600' is outside 576..1500: pptp-ts uses 1500",
    ]);
  });
});

describe('pptp-ts serve --pptpd-conf (the command)', () => {
  const serve = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, 'serve', ...args], { encoding: 'utf8', timeout: 30_000 });

  it('--print-config prints the JSON, the warnings go to stderr one line each; --check reads chap-secrets', () => {
    writeFileSync(path('opts'), 'name gw\nrequire-mschap-v2\nrequire-mppe-128\nproxyarp\nms-dns 10.0.0.53\n');
    writeFileSync(
      path('pptpd.conf'),
      conf([`option ${path('opts')}`, 'localip 10.0.0.1', 'remoteip 10.0.0.2-9', 'bcrelay eth1']),
    );
    writeFileSync(path('chap-secrets'), 'alice gw secret *\n', { mode: 0o600 });
    const p = serve('--pptpd-conf', path('pptpd.conf'), '--secrets', path('chap-secrets'), '--print-config');
    assert.equal(p.status, 0, p.stderr);
    const json = JSON.parse(p.stdout) as Record<string, unknown>;
    assert.equal(json.name, 'gw');
    assert.equal(json.secrets, path('chap-secrets'));
    assert.deepEqual(json['ms-dns'], ['10.0.0.53']);
    const lines = p.stderr.trim().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split(' (ignored)')[0]),
      ["pptpd.conf: option 'bcrelay' is not supported", "opts: option 'proxyarp' is not needed"],
    );
    // The printed JSON is a config of its own.
    writeFileSync(path('printed.json'), p.stdout);
    const c = serve('--config', path('printed.json'), '--check');
    assert.equal(c.status, 0, c.stderr);
    const k = serve('--pptpd-conf', path('pptpd.conf'), '--secrets', path('chap-secrets'), '--check');
    assert.equal(k.status, 0, k.stderr);
    assert.match(k.stdout, /OK \(1 secrets\)/);
  });

  it('usage and file errors exit 2 with one line', () => {
    const both = serve('--pptpd-conf', path('pptpd.conf'), '--config', path('printed.json'));
    assert.equal(both.status, 2);
    assert.match(both.stderr, /--config and --pptpd-conf exclude each other/);
    assert.equal(serve('--config', path('printed.json'), '--print-config').status, 2);
    const missing = serve('--pptpd-conf', path('nope.conf'));
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /cannot read .*nope\.conf/);
    writeFileSync(
      path('noopt.conf'),
      conf([`option ${path('missing-opts')}`, 'localip 10.0.0.1', 'remoteip 10.0.0.2']),
    );
    const noOpt = serve('--pptpd-conf', path('noopt.conf'), '--print-config');
    assert.equal(noOpt.status, 2);
    assert.match(noOpt.stderr, /option .*missing-opts: ENOENT/);
  });
});
