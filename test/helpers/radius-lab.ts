/**
 * The network of the RADIUS scale-out tests: a namespace for the RADIUS
 * server, whose address (10.77.0.1, on its loopback) the NAS namespaces reach
 * over one veth pair each: NAS i (from 0) is 10.77.(i+1).2/24, the RADIUS
 * side of its link 10.77.(i+1).1. Everything lives in the lab's namespaces
 * and goes with them (test/helpers/netns.ts).
 */
import type { NetnsLab } from './netns.js';

export interface RadiusNetwork {
  /** The RADIUS server's namespace and the address to listen on. */
  readonly radiusNs: string;
  readonly radiusAddress: string;
  /** One per NAS: its namespace and its address (the source of its RADIUS packets). */
  readonly nas: readonly { readonly ns: string; readonly address: string }[];
}

export const RADIUS_ADDRESS = '10.77.0.1';

export async function radiusNetwork(lab: NetnsLab, nasCount: number): Promise<RadiusNetwork> {
  if (!Number.isInteger(nasCount) || nasCount < 1 || nasCount > 200)
    throw new RangeError(`nasCount ${nasCount}`);
  const radiusNs = await lab.addNamespace('radius');
  await lab.exec(radiusNs, ['ip', 'addr', 'add', `${RADIUS_ADDRESS}/32`, 'dev', 'lo']);
  const nas: { ns: string; address: string }[] = [];
  for (let i = 0; i < nasCount; i++) {
    const ns = await lab.addNamespace(`nas${i}`);
    await lab.addVeth(radiusNs, `nas${i}`, ns, 'radius0');
    const net = `10.77.${i + 1}`;
    await lab.exec(radiusNs, ['ip', 'addr', 'add', `${net}.1/24`, 'dev', `nas${i}`]);
    await lab.exec(ns, ['ip', 'addr', 'add', `${net}.2/24`, 'dev', 'radius0']);
    await lab.exec(ns, ['ip', 'route', 'add', `${RADIUS_ADDRESS}/32`, 'via', `${net}.1`]);
    nas.push({ ns, address: `${net}.2` });
  }
  return { radiusNs, radiusAddress: RADIUS_ADDRESS, nas };
}
