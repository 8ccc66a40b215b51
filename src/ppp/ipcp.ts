/**
 * The IPCP option policy (RFC 1332, RFC 1877), plugged into the generic
 * automaton of `fsm.ts` (pppd's ipcp.c callbacks).
 *
 * Addresses, as pppd sees them: the *local* address is ours, the *remote*
 * address the peer's. A server knows both (its own address and the one it
 * assigns from the pool); a client knows neither and asks with 0.0.0.0
 * (RFC 1332 §3.3: "If all four octets are set to zero, it indicates a
 * request that the peer provide the IP-Address information").
 *
 *  - Peer's IP-Address: 0.0.0.0 → Nak with the address we assign (or Reject
 *    when we have none to give); another address than the one we assign →
 *    Nak with ours unless `acceptRemote`; no IP-Address at all → our
 *    address appended to a Nak, once (RFC 1332 §3.3 SHOULD).
 *  - Our IP-Address Nak'd: taken when `acceptLocal` (always when we asked
 *    with 0.0.0.0).
 *  - DNS/NBNS (RFC 1877): a server Naks a request with the configured
 *    servers and Rejects what it has none for; a client with `usePeerDns`
 *    asks with 0.0.0.0 and takes what the Nak says.
 *  - VJ compression (IP-Compression-Protocol) and the deprecated
 *    IP-Addresses option are rejected: we never compress headers.
 */

import { ipv4ToString } from '../wire/bytes.js';
import type { CpOption } from '../wire/cp.js';
import { decodeIpcpOption, encodeIpcpOption, type IpcpOption, IpcpOptionType } from '../wire/ipcp.js';
import { PppProtocol } from '../wire/ppp.js';
import { decodeNakOptions, decodeRequestOption } from './cp-options.js';
import type { CpPolicy, PolicyContext, RequestVerdict } from './fsm-policy.js';

/** IPCP settings, named after pppd's options. */
export interface IpcpConfig {
  /** Our address (pppd `local:remote`, left part); 0 asks the peer to assign one. */
  readonly localAddress: number;
  /** The address we want the peer to use (right part, or the pool's); 0 leaves it to the peer. */
  readonly remoteAddress: number;
  /** pppd `ipcp-accept-local`: accept the peer's idea of our address. Always true when `localAddress` is 0. */
  readonly acceptLocal: boolean;
  /** pppd `ipcp-accept-remote`: accept the peer's own address. Always true when `remoteAddress` is 0. */
  readonly acceptRemote: boolean;
  /** pppd `ms-dns` (up to two): DNS servers we hand out (RFC 1877 §1.1, §1.3). */
  readonly dns: readonly number[];
  /** pppd `ms-wins` (up to two): NBNS servers we hand out (RFC 1877 §1.2, §1.4). */
  readonly nbns: readonly number[];
  /** pppd `usepeerdns`: ask the peer for DNS servers. */
  readonly usePeerDns: boolean;
}

export const DEFAULT_IPCP_CONFIG: IpcpConfig = {
  localAddress: 0,
  remoteAddress: 0,
  acceptLocal: false,
  acceptRemote: false,
  dns: [],
  nbns: [],
  usePeerDns: false,
};

/** What IPCP negotiated, frozen at This-Layer-Up. Addresses are 32-bit numbers. */
export interface IpcpNegotiated {
  readonly localAddress: number;
  /** The peer's address (0 if it never told us and we had none to assign). */
  readonly remoteAddress: number;
  /** DNS servers the peer gave us (RFC 1877), in order primary, secondary; zeros left out. */
  readonly dns: readonly number[];
  /** NBNS servers the peer gave us. */
  readonly nbns: readonly number[];
}

/** What the IPCP policy tells the unit. */
export type IpcpNote =
  /** IPCP cannot give us a usable configuration (pppd: "Could not determine local IP address"). */
  { readonly kind: 'failed'; readonly reason: string };

/** Our side (pppd gotoptions). */
interface OurSide {
  local: number | undefined; // undefined: rejected, do not request
  dns: (number | undefined)[]; // [primary, secondary]: undefined = not requested
  hinted: boolean; // appended our IP-Address to a Nak already in this negotiation
}

const NAME_SERVER_SLOTS: Readonly<Record<number, { list: 'dns' | 'nbns'; index: number }>> = {
  [IpcpOptionType.PrimaryDnsServerAddress]: { list: 'dns', index: 0 },
  [IpcpOptionType.SecondaryDnsServerAddress]: { list: 'dns', index: 1 },
  [IpcpOptionType.PrimaryNbnsServerAddress]: { list: 'nbns', index: 0 },
  [IpcpOptionType.SecondaryNbnsServerAddress]: { list: 'nbns', index: 1 },
};

export class IpcpPolicy implements CpPolicy<IpcpNote> {
  readonly name = 'ipcp';
  readonly protocol = PppProtocol.Ipcp;
  private config: IpcpConfig;
  private ours: OurSide;
  private peerAddress = 0;
  private negotiatedValue: IpcpNegotiated | undefined;

  constructor(config: Partial<IpcpConfig> = {}) {
    this.config = { ...DEFAULT_IPCP_CONFIG, ...config };
    this.ours = this.initialOurs();
  }

  get settings(): IpcpConfig {
    return this.config;
  }

  /** What IPCP negotiated, set at This-Layer-Up and cleared at This-Layer-Down. */
  get negotiated(): IpcpNegotiated | undefined {
    return this.negotiatedValue;
  }

  /** Sets the address to assign to the peer (a server picks it after authentication). Takes effect at the next negotiation. */
  setRemoteAddress(address: number): void {
    this.config = { ...this.config, remoteAddress: address >>> 0 };
  }

  private initialOurs(): OurSide {
    return {
      local: this.config.localAddress >>> 0,
      dns: this.config.usePeerDns ? [0, 0] : [undefined, undefined],
      hinted: false,
    };
  }

  reset(): void {
    this.ours = this.initialOurs();
  }

  buildRequest(): CpOption[] {
    const req: IpcpOption[] = [];
    if (this.ours.local !== undefined) req.push({ kind: 'ip-address', address: this.ours.local });
    const [dns1, dns2] = this.ours.dns;
    if (dns1 !== undefined) req.push({ kind: 'primary-dns', address: dns1 });
    if (dns2 !== undefined) req.push({ kind: 'secondary-dns', address: dns2 });
    return req.map(encodeIpcpOption);
  }

  onAck(): void {}

  onNak(options: readonly CpOption[], treatAsReject: boolean): boolean {
    const decoded = decodeNakOptions(options, decodeIpcpOption);
    if (!decoded) return false;
    for (const o of decoded) {
      switch (o.kind) {
        case 'ip-address':
          if (this.ours.local === undefined) break; // appended hint for an option the peer rejected earlier
          if (treatAsReject) {
            if (this.ours.local === 0) this.ours.local = undefined;
          } else if (o.address !== 0 && (this.config.acceptLocal || this.config.localAddress === 0)) {
            // RFC 1332 §3.3: "The peer can provide this information by NAKing the option, and returning a
            // valid IP-address."
            this.ours.local = o.address;
          }
          break;
        case 'primary-dns':
        case 'secondary-dns': {
          const i = o.kind === 'primary-dns' ? 0 : 1;
          if (this.ours.dns[i] === undefined) break;
          this.ours.dns[i] = treatAsReject ? undefined : o.address;
          break;
        }
        default:
          // Hints for options we do not ask for.
          break;
      }
    }
    return true;
  }

  onReject(options: readonly CpOption[]): boolean {
    for (const o of options) {
      switch (o.type) {
        case IpcpOptionType.IpAddress:
          this.ours.local = undefined;
          break;
        case IpcpOptionType.PrimaryDnsServerAddress:
          this.ours.dns[0] = undefined;
          break;
        case IpcpOptionType.SecondaryDnsServerAddress:
          this.ours.dns[1] = undefined;
          break;
        default:
          return false;
      }
    }
    return true;
  }

  judgeRequest(
    options: readonly CpOption[],
    rejectIfDisagree: boolean,
    ctx: PolicyContext<IpcpNote>,
  ): RequestVerdict {
    const nak: CpOption[] = [];
    const reject: CpOption[] = [];
    const seen = new Set<number>();
    const assign = this.config.remoteAddress >>> 0;
    let peerAddress = 0;
    let sawAddress = false;
    for (const raw of options) {
      if (seen.has(raw.type)) {
        reject.push(raw);
        continue;
      }
      seen.add(raw.type);
      const o = decodeRequestOption(raw, decodeIpcpOption, reject, ctx);
      if (!o) continue;
      switch (o.kind) {
        case 'ip-address': {
          sawAddress = true;
          const acceptRemote = this.config.acceptRemote || assign === 0;
          if (o.address === 0) {
            // The peer asks us for an address (RFC 1332 §3.3).
            if (assign !== 0) nak.push(encodeIpcpOption({ kind: 'ip-address', address: assign }));
            // pppd: "Don't ACK an address of 0.0.0.0 - he has no address": with nothing to give, Reject.
            else reject.push(raw);
          } else if (o.address !== assign && !acceptRemote) {
            nak.push(encodeIpcpOption({ kind: 'ip-address', address: assign }));
          } else if (o.address === this.ours.local && assign !== 0 && assign !== o.address) {
            // Both ends cannot have the same address.
            nak.push(encodeIpcpOption({ kind: 'ip-address', address: assign }));
          } else {
            peerAddress = o.address;
          }
          break;
        }
        case 'primary-dns':
        case 'secondary-dns':
        case 'primary-nbns':
        case 'secondary-nbns': {
          // RFC 1877 §1: the peer asks for a name server; we hand out what we are configured with.
          const slot = NAME_SERVER_SLOTS[raw.type]!;
          const ours = this.config[slot.list][slot.index];
          if (ours === undefined || ours === 0) reject.push(raw);
          else if (o.address !== ours) nak.push(encodeIpcpOption({ kind: o.kind, address: ours }));
          break;
        }
        case 'ip-compression-protocol':
          // We never compress headers: RFC 1661 §5.4, options "not acceptable for negotiation" are rejected
          // (pppd `novj`). Van Jacobson compression (002d) included.
          reject.push(raw);
          break;
        case 'ip-addresses':
          // RFC 1332 §3.1: deprecated; "the use of the Configuration Option IP-Addresses has been deprecated".
          reject.push(raw);
          break;
        case 'unknown':
          reject.push(raw);
          break;
      }
    }
    if (!sawAddress && assign !== 0 && !this.ours.hinted && !rejectIfDisagree) {
      // RFC 1332 §3.3: "If negotiation about the remote IP-address is required, and the peer did not provide
      // the option in its Configure-Request, the option SHOULD be appended to a Configure-Nak." Once only
      // (pppd), so a peer that cannot do it still converges.
      this.ours.hinted = true;
      nak.push(encodeIpcpOption({ kind: 'ip-address', address: assign }));
    }
    this.peerAddress = peerAddress || (sawAddress ? 0 : assign);
    return { nak, reject };
  }

  up(ctx: PolicyContext<IpcpNote>): void {
    const local = this.ours.local ?? 0;
    const dns = this.ours.dns.filter((a): a is number => a !== undefined && a !== 0);
    this.negotiatedValue = { localAddress: local, remoteAddress: this.peerAddress, dns, nbns: [] };
    ctx.log.log('info', 'IPCP up', {
      local: ipv4ToString(local),
      remote: ipv4ToString(this.peerAddress),
      dns: dns.map(ipv4ToString).join(' '),
    });
    if (local === 0) {
      // pppd ipcp_up: "Could not determine local IP address".
      ctx.note({ kind: 'failed', reason: 'could not determine local IP address' });
    }
  }

  down(): void {
    this.negotiatedValue = undefined;
  }
}
