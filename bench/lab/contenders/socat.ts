/**
 * `socat` TUN↔UDP: the simplest userspace tunnel there is. Each end runs one
 * socat that copies raw IP packets between a TUN device (no packet-info
 * header) and a UDP socket connected to the other end. No encryption, no
 * framing beyond UDP, one thread per end.
 */
import type { Contender } from '../contender.js';
import type { LabProcess } from '../netns.js';
import { deleteLinks, missing, orUndo, stopAll, tunnelProcess, versionLine, waitForLink } from './util.js';

const DEV = 'socb0';
const PORT = '5555';

export const socat: Contender = {
  id: 'socat',
  label: 'socat TUN↔UDP',
  kind: 'userspace',
  config: `socat -b 65536 UDP-DATAGRAM:peer:${PORT},bind=self:${PORT} TUN:addr/prefix,tun-type=tun,iff-no-pi,iff-up on each end`,
  async unavailable() {
    return missing([['socat', 'socat']]);
  },
  async version() {
    return versionLine(['socat', '-V'], /^socat version/);
  },
  async up(lab, plan) {
    const ends = [
      {
        side: 'server' as const,
        ns: lab.serverNs,
        self: lab.serverUnderlay,
        peer: lab.clientUnderlay,
        addr: plan.serverAddress,
      },
      {
        side: 'client' as const,
        ns: lab.clientNs,
        self: lab.clientUnderlay,
        peer: lab.serverUnderlay,
        addr: plan.clientAddress,
      },
    ];
    const procs: LabProcess[] = [];
    const down = async () => {
      await stopAll(procs);
      for (const e of ends) await deleteLinks(lab, e.ns, [DEV]);
    };
    return orUndo(async () => {
      for (const e of ends) {
        const p = lab.spawn(
          e.ns,
          [
            'socat',
            '-b',
            '65536',
            `UDP-DATAGRAM:${e.peer}:${PORT},bind=${e.self}:${PORT}`,
            `TUN:${e.addr}/${plan.prefixLength},tun-type=tun,iff-no-pi,tun-name=${DEV},iff-up`,
          ],
          `socat ${e.side}`,
        );
        procs.push(p);
        await waitForLink(lab, e.ns, DEV, plan.upTimeoutMs, p);
        await lab.ip(e.ns, ['link', 'set', DEV, 'mtu', String(plan.mtu)]);
      }
      return {
        serverAddress: plan.serverAddress,
        clientAddress: plan.clientAddress,
        serverDevice: DEV,
        clientDevice: DEV,
        processes: procs.map((p, i) => tunnelProcess(p, ends[i]!.side, 'socat')),
        down,
      };
    }, down);
  },
};
