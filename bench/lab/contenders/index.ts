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

/**
 * Variants run only when named in `--only` (not part of a full run): pptp-ts
 * with the data path's busy-poll at both ends, for latency A/B runs
 * (docs/performance.md "Latency").
 */
export const VARIANTS: readonly Contender[] = [
  pptpTs('off', 100),
  pptpTs('off', 300),
  pptpTs('off', 1000),
  pptpTs('mppe-128-stateless', 100),
  pptpTs('mppe-128-stateless', 300),
  pptpTs('mppe-128-stateless', 1000),
];
