/**
 * Plain veth: no tunnel at all. iperf3 runs straight over the lab's veth
 * underlay (MTU 1500, the kernel's default offloads), which is the ceiling
 * every tunnel is measured against.
 */
import { release } from 'node:os';
import type { Contender } from '../contender.js';

export const veth: Contender = {
  id: 'veth',
  label: 'plain veth (no tunnel)',
  kind: 'limit',
  config: 'the underlay itself: one veth pair between the namespaces, MTU 1500, default offloads (TSO/GRO)',
  async unavailable() {
    return undefined;
  },
  async version() {
    return `Linux ${release()}`;
  },
  async up(lab) {
    return {
      serverAddress: lab.serverUnderlay,
      clientAddress: lab.clientUnderlay,
      serverDevice: lab.underlayDevice,
      clientDevice: lab.underlayDevice,
      processes: [],
      async down() {},
    };
  },
};
