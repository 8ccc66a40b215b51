/**
 * PPP frames as carried by PPTP (RFC 1661 §2, RFC 1662 §3.1, RFC 2637 §4):
 * optional Address/Control (0xFF 0x03, omitted under ACFC), then the
 * Protocol field (1 byte under PFC when its value allows), then the
 * Information field. PPTP carries no HDLC flags or FCS.
 *
 * The PPP *unit* works with {@link PppFrame} values; the *channel* (the
 * PPTP call's GRE data path) applies ACFC/PFC on the wire, exactly as the
 * seed's `pptp_xmit` does.
 */

/**
 * PPP Protocol field values used by this stack (RFC 1661 §2 and the
 * protocol RFCs named on each member).
 */
export enum PppProtocol {
  /** Internet Protocol version 4 (RFC 1332 §2). */
  Ipv4 = 0x0021,
  /** Internet Protocol version 6 (RFC 5072 §3). */
  Ipv6 = 0x0057,
  /** Compressed datagram: MPPE/MPPC payload (RFC 1962 §2, RFC 3078 §3). */
  Compressed = 0x00fd,
  /** IP Control Protocol (RFC 1332 §1). */
  Ipcp = 0x8021,
  /** IPv6 Control Protocol (RFC 5072 §4). */
  Ipv6cp = 0x8057,
  /** Compression Control Protocol (RFC 1962 §1). */
  Ccp = 0x80fd,
  /** Link Control Protocol (RFC 1661 §5). */
  Lcp = 0xc021,
  /** Password Authentication Protocol (RFC 1334 §2). */
  Pap = 0xc023,
  /** Challenge Handshake Authentication Protocol, incl. MS-CHAP (RFC 1994 §4, RFC 2433, RFC 2759). */
  Chap = 0xc223,
}

/**
 * One PPP frame as the unit sees it. `payload` is the Information field.
 * Ownership: a decoded payload is a view into the receive buffer, valid only
 * during the call that delivered it.
 */
export interface PppFrame {
  readonly protocol: number;
  readonly payload: Uint8Array;
}
