/**
 * wireguard-go from Debian (the userspace WireGuard; this kernel has no
 * wireguard module, so `ip link add ... type wireguard` fails and
 * wireguard-go makes a TUN instead). Each end runs `wireguard-go -f IFNAME`
 * and is configured with `wg set` (keys from `wg genkey`, one peer, the
 * other end's underlay address as endpoint, the tunnel subnet as allowed
 * IPs), then gets its address and the lab's inner MTU with iproute2.
 *
 * wireguard-go's control socket lives in /var/run/wireguard/IFNAME.sock,
 * outside the namespaces, so the interface names carry the run's unique
 * suffix.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Contender } from '../contender.js';
import { type LabProcess, waitUntil } from '../netns.js';
import { deleteLinks, missing, orUndo, stopAll, tunnelProcess, versionLine, waitForLink } from './util.js';

const PORT = '51820';
const SOCKET_DIR = '/var/run/wireguard';

/** `wg genkey` / `wg pubkey`: a private key and its public key, base64. */
function keyPair(): { priv: string; pub: string } {
  const g = spawnSync('wg', ['genkey'], { encoding: 'utf8', timeout: 5000 });
  if (g.status !== 0) throw new Error(`wg genkey failed: ${g.stderr}`);
  const priv = g.stdout.trim();
  const p = spawnSync('wg', ['pubkey'], { input: `${priv}\n`, encoding: 'utf8', timeout: 5000 });
  if (p.status !== 0) throw new Error(`wg pubkey failed: ${p.stderr}`);
  return { priv, pub: p.stdout.trim() };
}

export const wireguardGo: Contender = {
  id: 'wireguard-go',
  label: 'wireguard-go',
  kind: 'userspace',
  config:
    'wireguard-go -f IFNAME + wg set (one peer, endpoint = underlay, allowed-ips = tunnel /24), MTU set with ip',
  async unavailable() {
    return missing([
      ['wireguard-go', 'wireguard-go'],
      ['wg', 'wireguard-tools'],
    ]);
  },
  async version() {
    const go = await versionLine(['wireguard-go', '--version'], /^wireguard-go/);
    const wg = await versionLine(['wg', '--version'], /^wireguard-tools/);
    return `${go}; ${wg.replace(/ - https?:\S+/, '')}`;
  },
  async up(lab, plan) {
    const keys = [keyPair(), keyPair()];
    const ends = [
      {
        side: 'server' as const,
        ns: lab.serverNs,
        dev: `wgs${plan.unique}`,
        peerUnderlay: lab.clientUnderlay,
        addr: plan.serverAddress,
      },
      {
        side: 'client' as const,
        ns: lab.clientNs,
        dev: `wgc${plan.unique}`,
        peerUnderlay: lab.serverUnderlay,
        addr: plan.clientAddress,
      },
    ];
    const procs: LabProcess[] = [];
    const down = async () => {
      await stopAll(procs);
      for (const e of ends) {
        await deleteLinks(lab, e.ns, [e.dev]);
        // wireguard-go removes its socket on a clean exit; after a SIGKILL it stays.
        rmSync(join(SOCKET_DIR, `${e.dev}.sock`), { force: true });
      }
    };
    return orUndo(async () => {
      for (const [i, e] of ends.entries()) {
        const keyFile = join(lab.tmpDir, `${e.dev}.key`);
        writeFileSync(keyFile, `${keys[i]!.priv}\n`, { mode: 0o600 });
        const p = lab.spawn(e.ns, ['wireguard-go', '-f', e.dev], `wireguard-go ${e.side}`, {
          LOG_LEVEL: 'error',
        });
        procs.push(p);
        await waitForLink(lab, e.ns, e.dev, plan.upTimeoutMs, p);
        await waitUntil(
          `${e.dev}'s control socket`,
          () => existsSync(join(SOCKET_DIR, `${e.dev}.sock`)),
          plan.upTimeoutMs,
        );
        await lab.exec(e.ns, [
          'wg',
          'set',
          e.dev,
          'private-key',
          keyFile,
          'listen-port',
          PORT,
          'peer',
          keys[1 - i]!.pub,
          'endpoint',
          `${e.peerUnderlay}:${PORT}`,
          'allowed-ips',
          plan.subnet,
        ]);
        await lab.ip(e.ns, ['addr', 'add', `${e.addr}/${plan.prefixLength}`, 'dev', e.dev]);
        await lab.ip(e.ns, ['link', 'set', e.dev, 'mtu', String(plan.mtu), 'up']);
      }
      return {
        serverAddress: plan.serverAddress,
        clientAddress: plan.clientAddress,
        serverDevice: ends[0]!.dev,
        clientDevice: ends[1]!.dev,
        processes: procs.map((p, i) => tunnelProcess(p, ends[i]!.side, 'wireguard-go')),
        down,
      };
    }, down);
  },
};
