/**
 * pptp-ts itself, in two variants: MPPE off, and MPPE-128 stateless (the
 * targets of issue 6 are judged on these). The server end runs
 * `pptp-ts serve --config FILE` with a one-user chap-secrets file and a
 * one-address pool; the client end runs `pptp-ts connect SERVER --user U
 * --password-file F --ifname IF --mtu MTU` plus the MPPE flag, as issue 4
 * documents the CLI. The tunnel is up when the client's interface has its
 * IPCP address.
 *
 * Until src/cli/main.ts has the `serve` and `connect` commands, both
 * variants are skipped with that reason. When the CLI lands, check the flags
 * in {@link CLIENT_MPPE_FLAGS} and the config keys in {@link serverConfig}
 * against it: they are the only guesses here.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Contender, TunnelPlan } from '../contender.js';
import { type Lab, type LabProcess, run, waitUntil } from '../netns.js';
import { deleteLinks, orUndo, stopAll, tunnelProcess, waitForLink } from './util.js';

/** The repository's `bin/pptp-ts.js`. */
const BIN = fileURLToPath(new URL('../../../bin/pptp-ts.js', import.meta.url));
const SERVER_DEV = 'pptsrv0';
const CLIENT_DEV = 'pptcli0';
/** The user name the client logs in with. */
export const USER = 'bench';

export type PptpMppe = 'off' | 'mppe-128-stateless';

/** pppd-style option names the client takes for each variant (DESIGN.md §4). */
export const CLIENT_MPPE_FLAGS: Record<PptpMppe, readonly string[]> = {
  off: ['--nomppe'],
  'mppe-128-stateless': ['--require-mppe-128'],
};

/** The server's config file (src/server/config.ts schema) for one variant. */
export function serverConfig(lab: Lab, plan: TunnelPlan, mppe: PptpMppe, secretsPath: string): object {
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
  };
}

/** The one-user chap-secrets file (pppd format: client server secret address). */
export function secretsFile(user: string, password: string, address: string): string {
  return `${user} * ${password} ${address}\n`;
}

/** Why the CLI cannot run a tunnel yet, or undefined when `serve` and `connect` exist. */
export async function pptpCliMissing(): Promise<string | undefined> {
  const lacking: string[] = [];
  for (const cmd of ['serve', 'connect']) {
    const r = await run([process.execPath, BIN, cmd, '--help'], { allowFail: true, timeoutMs: 20_000 });
    if (/unknown command/i.test(`${r.stdout}${r.stderr}`)) lacking.push(cmd);
  }
  if (lacking.length === 0) return undefined;
  return `the pptp-ts CLI has no ${lacking.map((c) => `'${c}'`).join(' or ')} command yet (src/cli/main.ts; issue 4)`;
}

function hasIpv4(lab: Lab, ns: string, dev: string): Promise<boolean> {
  return lab.ip(ns, ['-j', '-4', 'addr', 'show', 'dev', dev], { allowFail: true }).then((r) => {
    if (r.code !== 0) return false;
    const links = JSON.parse(r.stdout) as { addr_info?: { local?: string }[] }[];
    return links.some((l) => (l.addr_info ?? []).some((a) => a.local !== undefined));
  });
}

/** A pptp-ts contender: `mppe` picks the variant. */
export function pptpTs(mppe: PptpMppe): Contender {
  const variant = mppe === 'off' ? 'MPPE off' : 'MPPE-128 stateless';
  return {
    id: mppe === 'off' ? 'pptp-ts' : 'pptp-ts-mppe128',
    label: `pptp-ts, ${variant}`,
    kind: 'subject',
    config:
      `pptp-ts serve --config (one user, MS-CHAPv2, ${mppe === 'off' ? 'nomppe' : 'require-mppe-128, stateless'}) ` +
      `and pptp-ts connect SERVER --user --password-file --ifname --mtu ${CLIENT_MPPE_FLAGS[mppe].join(' ')}`,
    unavailable: () => pptpCliMissing(),
    async version() {
      const head = await run(['git', '-C', join(BIN, '..', '..'), 'describe', '--always', '--dirty'], {
        allowFail: true,
        timeoutMs: 5000,
      });
      return `pptp-ts ${head.stdout.trim() || '(no git)'} on Node ${process.version}`;
    },
    async up(lab, plan) {
      const password = randomBytes(12).toString('hex');
      const secrets = join(lab.tmpDir, 'chap-secrets');
      writeFileSync(secrets, secretsFile(USER, password, plan.clientAddress), { mode: 0o600 });
      const passwordFile = join(lab.tmpDir, 'password');
      writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
      const config = join(lab.tmpDir, `pptp-ts-${mppe}.json`);
      writeFileSync(config, JSON.stringify(serverConfig(lab, plan, mppe, secrets), null, 2), { mode: 0o600 });

      const procs: LabProcess[] = [];
      const down = async () => {
        // The client first, so it hangs up cleanly (Call-Clear, Stop-Control-Connection).
        await stopAll(procs);
        await deleteLinks(lab, lab.clientNs, [CLIENT_DEV]);
        await deleteLinks(lab, lab.serverNs, [SERVER_DEV]);
      };
      return orUndo(async () => {
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
            ...CLIENT_MPPE_FLAGS[mppe],
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
            .slice(0, 12),
          down,
        };
      }, down);
    },
  };
}
