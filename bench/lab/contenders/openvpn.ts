/**
 * OpenVPN 2.6 peer-to-peer in cleartext mode: no TLS, no cipher, no HMAC
 * (`--cipher none --auth none --data-ciphers none`), `--dev tun`,
 * `--proto udp`, each end with `--ifconfig LOCAL REMOTE`. Everything else is
 * OpenVPN's default, as people run it, except the TUN MTU (the lab's common
 * inner MTU), `--mssfix 0` (no MSS clamping: the MTU already fits) and
 * `--disable-dco` (this kernel has no ovpn-dco module; the data channel stays
 * in userspace either way).
 */
import type { Contender } from '../contender.js';
import type { LabProcess } from '../netns.js';
import { deleteLinks, missing, orUndo, stopAll, tunnelProcess, versionLine, waitForOutput } from './util.js';

const DEV = 'ovpnb0';
const PORT = '1194';

export const openvpn: Contender = {
  id: 'openvpn',
  label: 'OpenVPN cleartext',
  kind: 'userspace',
  config:
    'openvpn --dev-type tun --proto udp --ifconfig L R --cipher none --auth none --data-ciphers none ' +
    '--tun-mtu MTU --mssfix 0 --disable-dco (peer-to-peer, no TLS)',
  async unavailable() {
    return missing([['openvpn', 'openvpn']]);
  },
  async version() {
    return versionLine(['openvpn', '--version'], /^OpenVPN \d/);
  },
  async up(lab, plan) {
    const ends = [
      {
        side: 'server' as const,
        ns: lab.serverNs,
        self: lab.serverUnderlay,
        peer: lab.clientUnderlay,
        addr: plan.serverAddress,
        remote: plan.clientAddress,
      },
      {
        side: 'client' as const,
        ns: lab.clientNs,
        self: lab.clientUnderlay,
        peer: lab.serverUnderlay,
        addr: plan.clientAddress,
        remote: plan.serverAddress,
      },
    ];
    const procs: LabProcess[] = [];
    const down = async () => {
      await stopAll(procs);
      for (const e of ends) await deleteLinks(lab, e.ns, [DEV]);
    };
    return orUndo(async () => {
      for (const e of ends) {
        procs.push(
          lab.spawn(
            e.ns,
            [
              'openvpn',
              '--dev',
              DEV,
              '--dev-type',
              'tun',
              '--proto',
              'udp',
              '--local',
              e.self,
              '--lport',
              PORT,
              '--remote',
              e.peer,
              '--rport',
              PORT,
              '--ifconfig',
              e.addr,
              e.remote,
              '--cipher',
              'none',
              '--auth',
              'none',
              '--data-ciphers',
              'none',
              '--tun-mtu',
              String(plan.mtu),
              '--mssfix',
              '0',
              '--disable-dco',
              '--verb',
              '3',
            ],
            `openvpn ${e.side}`,
          ),
        );
      }
      // Both ends must have found each other before traffic flows.
      for (const p of procs) await waitForOutput(p, /Initialization Sequence Completed/, plan.upTimeoutMs);
      return {
        serverAddress: plan.serverAddress,
        clientAddress: plan.clientAddress,
        serverDevice: DEV,
        clientDevice: DEV,
        processes: procs.map((p, i) => tunnelProcess(p, ends[i]!.side, 'openvpn')),
        notes: procs.flatMap((p) =>
          p
            .output()
            .split('\n')
            .filter((l) => /Data Channel:/.test(l))
            .map((l) => l.trim()),
        ),
        down,
      };
    }, down);
  },
};
