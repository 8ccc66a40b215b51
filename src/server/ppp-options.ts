/**
 * The PPP settings every call of the server starts from (docs/client-server.md
 * "Configuration"): made once per server; each call inherits them and adds
 * only its own address hook, logger and authentication.
 */
import type { CredentialLookup, RandomBytes } from '../ppp/auth/index.js';
import type { PppUnitOptions } from '../ppp/unit.js';
import { parseIpv4 } from '../wire/bytes.js';
import type { ServerConfig } from './config.js';

/** The server-wide PPP unit options from the config; `lookup` reads the chap-secrets. */
export function serverPppOptions(
  cfg: ServerConfig,
  lookup: CredentialLookup,
  localIp: number,
  random: RandomBytes | undefined,
): PppUnitOptions {
  const p = cfg.ppp;
  const mppe: PppUnitOptions = p.nomppe
    ? { nomppe: true }
    : p['require-mppe-128'] || p['require-mppe-40']
      ? {
          requireMppe128: p['require-mppe-128'],
          requireMppe40: p['require-mppe-40'],
          mppeStateful: p['mppe-stateful'],
        }
      : { requireMppe: false, mppeStateful: p['mppe-stateful'] };
  return {
    lookup,
    name: cfg.name,
    msIgnoreDomain: p['ms-ignore-domain'],
    requireMschapV2: p['require-mschap-v2'],
    requireMschap: p['require-mschap'],
    requireChap: p['require-chap'],
    requirePap: p['require-pap'],
    ...mppe,
    ...(p.mtu !== undefined ? { mtu: p.mtu } : {}),
    ...(p.mru !== undefined ? { mru: p.mru } : {}),
    lcpEchoInterval: p['lcp-echo-interval'],
    lcpEchoFailure: p['lcp-echo-failure'],
    // The shared interface routes IPv4 only: IPv6 is offered in per-session mode.
    ipv6: p.ipv6 && cfg.interface.mode !== 'shared',
    localAddress: localIp,
    msDns: cfg['ms-dns'].map((d) => parseIpv4(d)!),
    msWins: cfg['ms-wins'].map((d) => parseIpv4(d)!),
    ...(random ? { random } : {}),
  };
}
