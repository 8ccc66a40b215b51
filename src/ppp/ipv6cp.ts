/**
 * The IPv6CP option policy (RFC 5072 §4.1 Interface-Identifier), plugged
 * into the generic automaton of `fsm.ts` (pppd's ipv6cp.c), and the
 * link-local addresses built from the negotiated identifiers (RFC 5072 §5).
 *
 * We request our tentative identifier (random, with the "u" bit zero:
 * "If a good source of uniqueness cannot be found, it is recommended that a
 * random number be generated. In this case, the 'u' bit of the interface
 * identifier MUST be set to zero"). The peer's identifier is judged by the
 * four cases of §4.1 (zero, equal to ours, both zero, different).
 */

import { randomBytes } from 'node:crypto';
import { bytesEqual, toHex } from '../wire/bytes.js';
import type { CpOption } from '../wire/cp.js';
import {
  decodeIpv6cpOption,
  encodeIpv6cpOption,
  INTERFACE_IDENTIFIER_LENGTH,
  Ipv6cpOptionType,
  linkLocalAddress,
} from '../wire/ipv6cp.js';
import { PppProtocol } from '../wire/ppp.js';
import { decodeNakOptions, decodeRequestOption } from './cp-options.js';
import type { CpPolicy, PolicyContext, RequestVerdict } from './fsm-policy.js';

/** IPv6CP settings (pppd `ipv6 <local>,<remote>`, `ipv6cp-accept-local`, `ipv6cp-use-persistent`...). */
export interface Ipv6cpConfig {
  /** Our tentative interface identifier (8 bytes); random when omitted. */
  readonly localIdentifier?: Uint8Array;
  /** The identifier we suggest for the peer when it has none or collides; random when omitted. */
  readonly remoteIdentifier?: Uint8Array;
  /** pppd `ipv6cp-accept-local`: take the identifier the peer Naks us with. Default true. */
  readonly acceptLocal: boolean;
  /** 8 random bytes; injectable for tests. */
  readonly random: () => Uint8Array;
}

export const DEFAULT_IPV6CP_CONFIG: Ipv6cpConfig = {
  acceptLocal: true,
  random: () => new Uint8Array(randomBytes(INTERFACE_IDENTIFIER_LENGTH)),
};

/** What IPv6CP negotiated, frozen at This-Layer-Up. */
export interface Ipv6cpNegotiated {
  readonly localIdentifier: Uint8Array;
  readonly remoteIdentifier: Uint8Array;
  /** fe80::/64 + our identifier (RFC 5072 §5), in text form. */
  readonly localLinkLocal: string;
  /** fe80::/64 + the peer's identifier. */
  readonly remoteLinkLocal: string;
}

export type Ipv6cpNote = { readonly kind: 'failed'; readonly reason: string };

const ZERO = new Uint8Array(INTERFACE_IDENTIFIER_LENGTH);

function isZero(id: Uint8Array): boolean {
  return bytesEqual(id, ZERO);
}

export class Ipv6cpPolicy implements CpPolicy<Ipv6cpNote> {
  readonly name = 'ipv6cp';
  readonly protocol = PppProtocol.Ipv6cp;
  readonly config: Ipv6cpConfig;
  /** Our tentative identifier; undefined once the peer rejected the option. */
  private ours: Uint8Array | undefined;
  private peer: Uint8Array = ZERO;
  /** What we suggested in our last Nak (RFC 5072 §4.1). */
  private lastNakSent: Uint8Array | undefined;
  private hinted = false;
  private negotiatedValue: Ipv6cpNegotiated | undefined;

  constructor(config: Partial<Ipv6cpConfig> = {}) {
    this.config = { ...DEFAULT_IPV6CP_CONFIG, ...config };
    this.ours = this.initialLocal();
  }

  get negotiated(): Ipv6cpNegotiated | undefined {
    return this.negotiatedValue;
  }

  private initialLocal(): Uint8Array {
    return this.config.localIdentifier?.slice() ?? this.randomIdentifier();
  }

  /** A random non-zero identifier with the "u" bit (bit 6 of the first octet) zero, different from `avoid`. */
  private randomIdentifier(...avoid: (Uint8Array | undefined)[]): Uint8Array {
    for (let i = 0; i < 16; i++) {
      const id = this.config.random().slice(0, INTERFACE_IDENTIFIER_LENGTH);
      id[0] = id[0]! & ~0x02;
      if (!isZero(id) && !avoid.some((a) => a && bytesEqual(a, id))) return id;
    }
    const id = new Uint8Array(INTERFACE_IDENTIFIER_LENGTH);
    id[7] = 1;
    return id;
  }

  /** The identifier to suggest to the peer: configured, else random; never ours (RFC 5072 §4.1). */
  private suggestion(): Uint8Array {
    const r = this.config.remoteIdentifier;
    if (r && !isZero(r) && !(this.ours && bytesEqual(r, this.ours))) return r.slice();
    return this.randomIdentifier(this.ours, this.lastNakSent);
  }

  reset(): void {
    // Our side only: `lastNakSent` is what we last suggested to the peer and stays valid (RFC 5072 §4.1).
    this.ours = this.initialLocal();
    this.hinted = false;
  }

  buildRequest(): CpOption[] {
    if (!this.ours) return [];
    return [encodeIpv6cpOption({ kind: 'interface-identifier', interfaceIdentifier: this.ours })];
  }

  onAck(): void {}

  onNak(options: readonly CpOption[], treatAsReject: boolean): boolean {
    const decoded = decodeNakOptions(options, decodeIpv6cpOption);
    if (!decoded) return false;
    for (const o of decoded) {
      if (o.kind !== 'interface-identifier' || !this.ours || treatAsReject) continue;
      const s = o.interfaceIdentifier;
      if (isZero(s)) continue;
      if (this.lastNakSent && bytesEqual(s, this.lastNakSent)) {
        // RFC 5072 §4.1: "if the received interface identifier is equal to the one sent in the last
        // Configure-Nak, a new interface identifier MUST be chosen."
        this.ours = this.randomIdentifier(s);
      } else if (this.config.acceptLocal) {
        // "a new Configure-Request MUST be sent with the identifier value suggested in the last Configure-Nak"
        this.ours = s.slice();
      }
    }
    return true;
  }

  onReject(options: readonly CpOption[]): boolean {
    for (const o of options) {
      // RFC 5072 §4.1: "A new Configure-Request MUST NOT contain the interface-identifier option if a valid
      // Interface-Identifier Configure-Reject is received." We keep using our tentative one locally.
      if (o.type === Ipv6cpOptionType.InterfaceIdentifier) this.ours = undefined;
      else return false;
    }
    return true;
  }

  judgeRequest(
    options: readonly CpOption[],
    rejectIfDisagree: boolean,
    ctx: PolicyContext<Ipv6cpNote>,
  ): RequestVerdict {
    const nak: CpOption[] = [];
    const reject: CpOption[] = [];
    let peer: Uint8Array = ZERO;
    let saw = false;
    for (const raw of options) {
      const o = decodeRequestOption(raw, decodeIpv6cpOption, reject, ctx);
      if (!o) continue;
      if (o.kind !== 'interface-identifier' || saw) {
        // IPv6-Compression-Protocol (removed by RFC 5072), unknown options, a second identifier ("A
        // Configure-Request MUST contain exactly one instance"): rejected.
        reject.push(raw);
        continue;
      }
      saw = true;
      const id = o.interfaceIdentifier;
      const ours = this.ours ?? this.config.localIdentifier ?? ZERO;
      if (isZero(id) && isZero(ours)) {
        // "If the two interface identifiers are equal to zero, the interface identifier's negotiation MUST be
        // terminated by transmitting the Configure-Reject with the interface-identifier value set to zero."
        reject.push(raw);
      } else if (isZero(id) || bytesEqual(id, ours)) {
        // "a Configure-Nak is sent with a non-zero interface-identifier value suggested for use by the remote
        // peer. Such a suggested interface identifier MUST be different from the interface identifier of the
        // last Configure-Request sent to the peer."
        this.lastNakSent = this.suggestion();
        nak.push(encodeIpv6cpOption({ kind: 'interface-identifier', interfaceIdentifier: this.lastNakSent }));
      } else {
        // "If the two interface identifiers are different and the received interface identifier is not zero,
        // the interface identifier MUST be acknowledged".
        peer = id.slice();
      }
    }
    if (!saw && !this.hinted && !rejectIfDisagree) {
      // "If negotiation of the interface identifier is required, and the peer did not provide the option in
      // its Configure-Request, the option SHOULD be appended to a Configure-Nak ... If the next
      // Configure-Request does not include this option, the peer MUST NOT send another Configure-Nak with
      // this option included."
      this.hinted = true;
      this.lastNakSent = this.suggestion();
      nak.push(encodeIpv6cpOption({ kind: 'interface-identifier', interfaceIdentifier: this.lastNakSent }));
    }
    this.peer = peer;
    return { nak, reject };
  }

  up(ctx: PolicyContext<Ipv6cpNote>): void {
    const local = this.ours ?? this.config.localIdentifier ?? this.initialLocal();
    const remote = this.peer;
    if (isZero(remote) || bytesEqual(local, remote)) {
      // RFC 5072 §4.1 Default: "If no valid interface identifier can be successfully negotiated, no default
      // interface-identifier value should be assumed."
      ctx.note({ kind: 'failed', reason: 'no unique IPv6 interface identifiers were negotiated' });
    }
    this.negotiatedValue = {
      localIdentifier: local,
      remoteIdentifier: remote,
      localLinkLocal: linkLocalAddress(local),
      remoteLinkLocal: linkLocalAddress(remote),
    };
    ctx.log.log('info', 'IPv6CP up', { local: toHex(local), remote: toHex(remote) });
  }

  down(): void {
    this.negotiatedValue = undefined;
  }
}
