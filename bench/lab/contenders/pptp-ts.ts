/**
 * pptp-ts itself, in two variants: MPPE off, and MPPE-128 stateless (the
 * targets are judged on these). The server end runs
 * `pptp-ts serve --config FILE` with a one-user chap-secrets file and a
 * one-address pool; the client end runs `pptp-ts connect SERVER --user U
 * --password-file F --ifname IF --mtu MTU --mppe SPEC --no-host-route` (the
 * server is on the client's own link, and the namespace has no gateway to
 * pin a host route to). The tunnel is up when the client's interface has its
 * IPCP address.
 *
 * While src/cli/main.ts lacks the `serve` or `connect` command, both
 * variants are skipped with that reason.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Contender, Tunnel, TunnelPlan } from '../contender.js';
import { type Lab, type LabProcess, run, waitUntil } from '../netns.js';
import { deleteLinks, orUndo, stopAll, tunnelProcess, waitForLink, waitForOutput, which } from './util.js';

/** The repository's `bin/pptp-ts.js`: the compiled build in dist/. */
const BIN = fileURLToPath(new URL('../../../bin/pptp-ts.js', import.meta.url));
const SERVER_DEV = 'pptsrv0';
const CLIENT_DEV = 'pptcli0';
/** The user name the client logs in with. */
export const USER = 'bench';

export type PptpMppe = 'off' | 'mppe-128-stateless';

/** The client's `--mppe SPEC` for each variant (src/cli/connect.ts). */
export const CLIENT_MPPE_FLAGS: Record<PptpMppe, readonly string[]> = {
  off: ['--mppe', 'off'],
  'mppe-128-stateless': ['--mppe', 'required,128,stateless'],
};

/** The server's config file (src/server/config.ts schema) for one variant. */
export function serverConfig(
  lab: Lab,
  plan: TunnelPlan,
  mppe: PptpMppe,
  secretsPath: string,
  busyPollMicros = 0,
): object {
  return {
    listen: lab.serverUnderlay,
    name: 'pptp-ts',
    'local-ip': plan.serverAddress,
    pool: `${plan.clientAddress}-${plan.clientAddress}`,
    secrets: secretsPath,
    interface: { mode: 'shared', name: SERVER_DEV },
    ppp:
      mppe === 'off'
        ? { nomppe: true, 'require-mppe-128': false, mtu: plan.mtu, mru: plan.mtu }
        : { 'require-mppe-128': true, 'mppe-stateful': false, mtu: plan.mtu, mru: plan.mtu },
    log: { level: 'warn' },
    ...(busyPollMicros > 0 ? { 'busy-poll': { 'spin-us': busyPollMicros } } : {}),
  };
}

/** The one-user chap-secrets file (pppd format: client server secret address). */
export function secretsFile(user: string, password: string, address: string): string {
  return `${user} * ${password} ${address}\n`;
}

/**
 * The PPP protocol numbers (`ppp.protocol`, e.g. 0x0021 IPv4, 0x00fd MPPE)
 * of the GRE packets that cross `dev` in `ns` while `traffic` runs, as
 * tshark decodes them: an oracle independent of pptp-ts's own logs.
 */
export async function capturePppProtocols(
  lab: Lab,
  ns: string,
  dev: string,
  traffic: () => Promise<unknown>,
  timeoutMs = 20_000,
): Promise<number[]> {
  const cap = lab.spawn(
    ns,
    [
      'tshark',
      '-n',
      '-i',
      dev,
      '-f',
      'ip proto 47',
      '-c',
      '12',
      '-a',
      'duration:10',
      '-T',
      'fields',
      '-e',
      'ppp.protocol',
    ],
    'tshark',
  );
  try {
    await waitForOutput(cap, /Capturing on/, timeoutMs);
    await traffic();
    await Promise.race([cap.done, new Promise((r) => setTimeout(r, timeoutMs))]);
  } finally {
    await cap.stop(1000);
  }
  return [...cap.output().matchAll(/\b0x([0-9a-fA-F]{4})\b/g)].map((m) => Number.parseInt(m[1]!, 16));
}

/** PPP protocol numbers the wire check looks for (RFC 1332, RFC 3078). */
const PPP_IPV4 = 0x0021;
const PPP_COMPRESSED_DATAGRAM = 0x00fd;

/**
 * Checks the variant on the wire: with MPPE off, IPv4 must travel as PPP
 * protocol 0x0021 and nothing as 0x00fd; with MPPE, every data packet must
 * be a compressed datagram (0x00fd) and no IPv4 may travel in the clear.
 * Without tshark it falls back to the client's own log line.
 */
export async function verifyMppeOnWire(
  lab: Lab,
  tunnel: Tunnel,
  mppe: PptpMppe,
  clientLog: string,
): Promise<string[]> {
  const ccp = /CCP up.*/.exec(clientLog)?.[0];
  if (!which('tshark')) {
    if (mppe !== 'off' && !ccp?.includes('MPPE-128 stateless')) {
      throw new Error(
        `the client did not report MPPE-128 stateless (tshark not installed to check the wire): ${ccp ?? 'no CCP line'}`,
      );
    }
    return [`MPPE not checked on the wire (tshark not installed); client says: ${ccp ?? 'no CCP'}`];
  }
  const seen = await capturePppProtocols(lab, lab.clientNs, lab.underlayDevice, () =>
    lab.exec(lab.clientNs, ['ping', '-q', '-c', '6', '-i', '0.05', '-W', '2', tunnel.serverAddress], {
      allowFail: true,
    }),
  );
  const hex = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
  const kinds = [...new Set(seen)].map(hex).join(', ') || 'none';
  const ipv4 = seen.filter((p) => p === PPP_IPV4).length;
  const mppeFrames = seen.filter((p) => p === PPP_COMPRESSED_DATAGRAM).length;
  if (mppe === 'off' ? ipv4 === 0 || mppeFrames > 0 : mppeFrames === 0 || ipv4 > 0) {
    throw new Error(
      `wire check: PPP protocols on ${lab.underlayDevice} were ${kinds} (${ipv4} IPv4, ${mppeFrames} MPPE), ` +
        `not what ${mppe === 'off' ? 'MPPE off' : 'MPPE-128'} sends`,
    );
  }
  return [
    `wire check (tshark): ${seen.length} PPP frames, protocols ${kinds}: ${mppe === 'off' ? 'IPv4 in the clear' : 'all MPPE'}`,
    ...(ccp ? [`client: ${ccp}`] : []),
  ];
}

/** Why the CLI cannot run a tunnel yet, or undefined when `serve` and `connect` exist. */
export async function pptpCliMissing(): Promise<string | undefined> {
  const lacking: string[] = [];
  for (const cmd of ['serve', 'connect']) {
    const r = await run([process.execPath, BIN, cmd, '--help'], { allowFail: true, timeoutMs: 20_000 });
    if (/unknown command/i.test(`${r.stdout}${r.stderr}`)) lacking.push(cmd);
  }
  if (lacking.length === 0) return undefined;
  return `the pptp-ts CLI has no ${lacking.map((c) => `'${c}'`).join(' or ')} command yet (src/cli/main.ts)`;
}

function hasIpv4(lab: Lab, ns: string, dev: string): Promise<boolean> {
  return lab.ip(ns, ['-j', '-4', 'addr', 'show', 'dev', dev], { allowFail: true }).then((r) => {
    if (r.code !== 0) return false;
    const links = JSON.parse(r.stdout) as { addr_info?: { local?: string }[] }[];
    return links.some((l) => (l.addr_info ?? []).some((a) => a.local !== undefined));
  });
}

/**
 * A pptp-ts contender: `mppe` picks the variant; `busyPollMicros` > 0 turns
 * the data path's busy-poll on at both ends (`busy-poll.spin-us` in the
 * server's config, `--busy-poll` for the client), with its own id
 * (`pptp-ts-bpN`, `pptp-ts-mppe128-bpN`) so that it runs interleaved with
 * the plain variant for an A/B in one sitting (contenders/index.ts VARIANTS).
 */
export function pptpTs(mppe: PptpMppe, busyPollMicros = 0): Contender {
  const bp = busyPollMicros > 0 ? `-bp${busyPollMicros}` : '';
  const variant = `${mppe === 'off' ? 'MPPE off' : 'MPPE-128 stateless'}${bp ? `, busy-poll ${busyPollMicros} µs` : ''}`;
  const bpFlags = busyPollMicros > 0 ? ['--busy-poll', String(busyPollMicros)] : [];
  return {
    id: `${mppe === 'off' ? 'pptp-ts' : 'pptp-ts-mppe128'}${bp}`,
    label: `pptp-ts, ${variant}`,
    kind: 'subject',
    config:
      `pptp-ts serve --config (one user, MS-CHAPv2, ${mppe === 'off' ? 'nomppe' : 'require-mppe-128, stateless'}) ` +
      `and pptp-ts connect SERVER --user --password-file --ifname --mtu ${[...CLIENT_MPPE_FLAGS[mppe], ...bpFlags].join(' ')}`,
    unavailable: () => pptpCliMissing(),
    verify(lab, tunnel) {
      return verifyMppeOnWire(lab, tunnel, mppe, (tunnel.notes ?? []).join('\n'));
    },
    async version() {
      const head = await run(['git', '-C', join(BIN, '..', '..'), 'describe', '--always', '--dirty'], {
        allowFail: true,
        timeoutMs: 5000,
      });
      return `pptp-ts ${head.stdout.trim() || '(no git)'}, compiled (dist/), on Node ${process.version}`;
    },
    async up(lab, plan) {
      const password = randomBytes(12).toString('hex');
      const secrets = join(lab.tmpDir, 'chap-secrets');
      writeFileSync(secrets, secretsFile(USER, password, plan.clientAddress), { mode: 0o600 });
      const passwordFile = join(lab.tmpDir, 'password');
      writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
      const config = join(lab.tmpDir, `pptp-ts-${mppe}${bp}.json`);
      writeFileSync(config, JSON.stringify(serverConfig(lab, plan, mppe, secrets, busyPollMicros), null, 2), {
        mode: 0o600,
      });

      const procs: LabProcess[] = [];
      const down = async () => {
        // The client first, so it hangs up cleanly (Call-Clear, Stop-Control-Connection).
        await stopAll(procs);
        await deleteLinks(lab, lab.clientNs, [CLIENT_DEV]);
        await deleteLinks(lab, lab.serverNs, [SERVER_DEV]);
      };
      const build = async () => {
        const server = lab.spawn(
          lab.serverNs,
          [process.execPath, BIN, 'serve', '--config', config],
          'pptp-ts serve',
        );
        procs.push(server);
        await waitUntil(
          'pptp-ts serve to listen on TCP 1723',
          async () => {
            if (server.exited())
              throw new Error(`pptp-ts serve exited: ${server.output().trim().slice(-500)}`);
            const r = await lab.exec(lab.serverNs, ['ss', '-Hltn', 'sport = :1723'], { timeoutMs: 3000 });
            return r.stdout.includes(':1723');
          },
          plan.upTimeoutMs,
        );
        const client = lab.spawn(
          lab.clientNs,
          [
            process.execPath,
            BIN,
            'connect',
            lab.serverUnderlay,
            '--user',
            USER,
            '--password-file',
            passwordFile,
            '--ifname',
            CLIENT_DEV,
            '--mtu',
            String(plan.mtu),
            '--mru',
            String(plan.mtu),
            '--no-host-route',
            ...CLIENT_MPPE_FLAGS[mppe],
            ...bpFlags,
          ],
          'pptp-ts connect',
        );
        // stop() runs in reverse order: client before server.
        procs.push(client);
        await waitForLink(lab, lab.clientNs, CLIENT_DEV, plan.upTimeoutMs, client);
        await waitUntil(
          `${CLIENT_DEV} to get its IPCP address`,
          async () => {
            if (client.exited())
              throw new Error(`pptp-ts connect exited: ${client.output().trim().slice(-500)}`);
            return hasIpv4(lab, lab.clientNs, CLIENT_DEV);
          },
          plan.upTimeoutMs,
        );
        return {
          serverAddress: plan.serverAddress,
          clientAddress: plan.clientAddress,
          serverDevice: SERVER_DEV,
          clientDevice: CLIENT_DEV,
          processes: [
            tunnelProcess(server, 'server', 'pptp-ts serve'),
            tunnelProcess(client, 'client', 'pptp-ts connect'),
          ],
          notes: client
            .output()
            .split('\n')
            .map((l) => l.trim())
            .filter(Boolean)
            .slice(0, 40),
          down,
        };
      };
      return orUndo(
        () =>
          build().catch((e: unknown) => {
            // What the two ends said is the only clue when the tunnel does not come up.
            const said = procs
              .map((p) => `${p.label}: ${p.output().trim().slice(-600) || '(nothing)'}`)
              .join(' | ');
            throw new Error(`${(e as Error).message}; ${said}`);
          }),
        down,
      );
    },
  };
}
