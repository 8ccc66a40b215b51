/**
 * Every contender, in the order each round runs them.
 */
import type { Contender } from '../contender.js';
import { openvpn } from './openvpn.js';
import { pptpTs } from './pptp-ts.js';
import { socat } from './socat.js';
import { veth } from './veth.js';
import { vxlan } from './vxlan.js';
import { wireguardGo } from './wireguard-go.js';

export const CONTENDERS: readonly Contender[] = [
  veth,
  vxlan,
  socat,
  openvpn,
  wireguardGo,
  pptpTs('off'),
  pptpTs('mppe-128-stateless'),
];
