/**
 * Kernel VXLAN (RFC 7348): Ethernet in UDP, encapsulated by the kernel, the
 * only kernel tunnel this machine's kernel offers (no GRE/IPIP/WireGuard
 * modules: `ip link add ... type gre` fails, `type vxlan` works). One
 * unicast VXLAN device per namespace, VNI 42, UDP 4789, remote = the other
 * end's underlay address.
 */
import { release } from 'node:os';
import type { Contender } from '../contender.js';
import { deleteLinks, orUndo } from './util.js';

const DEV = 'vxb0';
const VNI = '42';
const PORT = '4789';

export const vxlan: Contender = {
  id: 'vxlan',
  label: 'kernel VXLAN',
  kind: 'kernel',
  config: `unicast VXLAN, VNI ${VNI}, UDP ${PORT} over the veth, inner MTU as for every tunnel`,
  async unavailable(lab) {
    // Probe in our own namespace: create and delete a device.
    const r = await lab.ip(
      lab.serverNs,
      ['link', 'add', 'vxprobe', 'type', 'vxlan', 'id', '1', 'dstport', PORT, 'dev', lab.underlayDevice],
      { allowFail: true },
    );
    if (r.code !== 0) return `this kernel cannot create a VXLAN device: ${r.stderr.trim()}`;
    await lab.ip(lab.serverNs, ['link', 'del', 'vxprobe'], { allowFail: true });
    return undefined;
  },
  async version() {
    return `Linux ${release()}`;
  },
  async up(lab, plan) {
    const ends = [
      { ns: lab.serverNs, local: lab.serverUnderlay, remote: lab.clientUnderlay, addr: plan.serverAddress },
      { ns: lab.clientNs, local: lab.clientUnderlay, remote: lab.serverUnderlay, addr: plan.clientAddress },
    ];
    const down = async () => {
      for (const e of ends) await deleteLinks(lab, e.ns, [DEV]);
    };
    return orUndo(async () => {
      for (const e of ends) {
        await lab.ip(e.ns, [
          'link',
          'add',
          DEV,
          'type',
          'vxlan',
          'id',
          VNI,
          'local',
          e.local,
          'remote',
          e.remote,
          'dstport',
          PORT,
          'dev',
          lab.underlayDevice,
        ]);
        await lab.ip(e.ns, ['addr', 'add', `${e.addr}/${plan.prefixLength}`, 'dev', DEV]);
        await lab.ip(e.ns, ['link', 'set', DEV, 'mtu', String(plan.mtu), 'up']);
      }
      return {
        serverAddress: plan.serverAddress,
        clientAddress: plan.clientAddress,
        serverDevice: DEV,
        clientDevice: DEV,
        processes: [],
        down,
      };
    }, down);
  },
};
