/**
 * The server's router between its sessions and the host: one shared TUN for
 * every session (interface.mode "shared"), a packet from it goes to the
 * session owning its inner destination; a packet from a session passes
 * anti-spoofing, then the client-to-client policy, then the session's
 * interface (docs/client-server.md "Interfaces", docs/data-path.md).
 *
 * ```
 *  shared TUN ─ read ─▶ by inner destination ─▶ that session ─▶ GRE
 *  session ─ deliver ─▶ inner source must be the session's address (anti-spoofing)
 *                    ─▶ destination another session? client-to-client policy : TUN
 * ```
 *
 * This is the per-packet path: no allocation per packet, and every call
 * site sees one class (PppSession, TunDevice).
 */
import type { TunDevice } from '../io/types.js';
import type { Logger } from '../log/logger.js';
import type { Ipv6cpNegotiated } from '../ppp/ipv6cp.js';
import { ipv4ToString, u32 } from '../wire/bytes.js';
import { PppProtocol } from '../wire/ppp.js';
import type { ServerConfig } from './config.js';
import type { ServerCall, ServerCounters } from './server-types.js';

const MAX_SPOOF_LOGS_PER_SESSION = 3;

/** Sessions by inner IPv4 address, and the packets between them, the shared TUN and per-session TUNs. */
export class TunRouter {
  /** The session each routed inner address (uint32) belongs to. */
  private readonly byAddress = new Map<number, ServerCall>();
  /** Shared mode: the one TUN, once the server started. */
  sharedTun: TunDevice | undefined;

  constructor(
    /** Read per packet for `client-to-client`, which a reload may change. */
    private readonly config: ServerConfig,
    private readonly counters: ServerCounters,
    private readonly log: Logger,
  ) {}

  /** Routed sessions. */
  get size(): number {
    return this.byAddress.size;
  }

  /** The session routed at `address` (uint32), if any. */
  routedAt(address: number): ServerCall | undefined {
    return this.byAddress.get(address);
  }

  /** Traffic to `address` goes to `call` from now on. */
  route(address: number, call: ServerCall): void {
    this.byAddress.set(address, call);
  }

  /** No traffic is routed to `call` any more (its IPv4 stopped passing, or it ended). */
  unroute(call: ServerCall): void {
    if (call.address !== undefined && this.byAddress.get(call.address) === call)
      this.byAddress.delete(call.address);
  }

  /** A packet the host routed into the shared TUN: to the session owning its destination. */
  fromSharedTun(p: Uint8Array): void {
    if (p.length < 20 || p[0]! >>> 4 !== 4) {
      this.counters.notIpv4Dropped++;
      return;
    }
    const call = this.byAddress.get(u32(p, 16));
    if (!call) {
      this.counters.noSessionDropped++;
      return;
    }
    call.session.sendPacket(p);
  }

  /** A packet from a session's peer: anti-spoofing, client-to-client policy, then the interface. */
  fromSession(call: ServerCall, protocol: number, p: Uint8Array): void {
    const tun = call.tun ?? this.sharedTun;
    if (protocol !== PppProtocol.Ipv4) {
      // Shared mode routes IPv4 only; a per-session TUN takes IPv6 too, from the peer's own addresses.
      if (!call.tun) this.counters.notIpv4Dropped++;
      else if (ipv6SourceAllowed(p, call.ipv6)) call.tun.write(p);
      else this.spoofed(call, p.length >= 40 ? ipv6SourceText(p) : 'short packet');
      return;
    }
    if (p.length < 20 || call.address === undefined || u32(p, 12) !== call.address) {
      this.spoofed(call, p.length >= 20 ? ipv4ToString(u32(p, 12)) : 'short packet');
      return;
    }
    const other = this.byAddress.get(u32(p, 16));
    if (other !== undefined && other !== call) {
      if (!this.config['client-to-client']) {
        call.c2cDropped++;
        this.counters.clientToClientDropped++;
        return;
      }
      this.counters.clientToClientForwarded++;
      other.session.sendPacket(p);
      return;
    }
    tun?.write(p);
  }

  /** Drops and counts a packet whose source is not the session's; logs the first few per session. */
  private spoofed(call: ServerCall, source: string): void {
    call.spoofed++;
    this.counters.spoofedDropped++;
    if (call.spoofed <= MAX_SPOOF_LOGS_PER_SESSION) {
      this.log.log('warn', 'spoofed source address dropped', {
        peer: call.conn.remote,
        callId: call.callId,
        user: call.user,
        source,
      });
    }
  }
}

/**
 * IPv6 anti-spoofing for a per-session interface: the source must carry the
 * interface identifier the peer negotiated with IPV6CP (RFC 5072 §4.1), under
 * any prefix — fe80::/64 (its link-local address, RFC 5072 §5) or a prefix
 * the operator advertises on the interface, from which the peer forms its
 * address with that same identifier (RFC 5072 §5: the identifier is used
 * for stateless address autoconfiguration). The unspecified address is
 * allowed for ICMPv6 only (Duplicate Address Detection, RFC 4862 §5.4).
 * Nothing passes before IPV6CP is up. (Temporary addresses, RFC 4941, with
 * random identifiers, are therefore refused: they cannot be told from a
 * forged source.)
 */
export function ipv6SourceAllowed(p: Uint8Array, n: Ipv6cpNegotiated | undefined): boolean {
  if (n === undefined || p.length < 40 || p[0]! >>> 4 !== 6) return false;
  const id = n.remoteIdentifier;
  let unspecified = true;
  for (let i = 8; i < 24; i++) {
    if (p[i] !== 0) {
      unspecified = false;
      break;
    }
  }
  if (unspecified) return p[6] === 58;
  if (p[8] === 0xff) return false; // a multicast source is never valid (RFC 4291 §2.7)
  for (let i = 0; i < 8; i++) if (p[16 + i] !== id[i]) return false;
  return true;
}

/** The IPv6 source address of `p` (at least 40 bytes), uncompressed hex groups. */
function ipv6SourceText(p: Uint8Array): string {
  const g: string[] = [];
  for (let i = 8; i < 24; i += 2) g.push(((p[i]! << 8) | p[i + 1]!).toString(16));
  return g.join(':');
}
