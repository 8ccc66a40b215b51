/**
 * The start of a PPTP control connection (RFC 2637 §3.1.1–§3.1.3), sans-IO:
 * what we announce in Start-Control-Connection-Request/-Reply, and the
 * verdict on the peer's request or reply (collision, protocol version,
 * admission). The connection state machine (control.ts) acts on the
 * verdicts; nothing here holds per-connection state, so one instance serves
 * every connection made with the same configuration.
 */

import type { Logger } from '../log/logger.js';
import {
  PPTP_HOST_NAME_LENGTH,
  PPTP_PROTOCOL_VERSION,
  PPTP_VENDOR_STRING_LENGTH,
  PptpGeneralError,
  type PptpMessage,
  PptpMessageType,
  type PptpStartControlConnectionReply,
  type PptpStartControlConnectionRequest,
  PptpStartResult,
  PptpStopReason,
  toPptpString,
} from '../wire/pptp/index.js';
import { PptpProtocolError } from './control-error.js';
import { PPTP_DEFAULT_LIMITS, type PptpAdmission, type PptpControlConfig } from './control-types.js';

const VERSION_REFERENCE =
  'RFC 2637 §3.1.2: "If the version is earlier than the receiver\'s version and the version cannot be supported, the receiver SHOULD send a Start-Connection-Reply message, close the TCP connection"';

/** The receiver's verdict on a Start-Control-Connection-Request. */
export type PptpStartRequestVerdict =
  /** Answer with a Success SCCRP: established. */
  | { readonly kind: 'accept' }
  /** §3.1.3 collision won on the connection the loser opened: send nothing, wait for TCP close. */
  | { readonly kind: 'silent' }
  /** Answer with this Result Code, then close the TCP connection. */
  | {
      readonly kind: 'reject';
      readonly resultCode: number;
      readonly errorCode: number;
      readonly detail: string;
    };

/** The originator's verdict on a Start-Control-Connection-Reply. */
export type PptpStartReplyVerdict =
  | { readonly kind: 'accept' }
  /** The peer refused: close the TCP connection. */
  | { readonly kind: 'refused'; readonly resultCode: number; readonly errorCode: number }
  /** A protocol version we do not speak: stop the connection with this error. */
  | { readonly kind: 'version'; readonly error: PptpProtocolError };

const exchanges = new WeakMap<PptpControlConfig, PptpStartExchange>();

export class PptpStartExchange {
  private readonly hostName: string;
  private readonly vendorString: string;
  private readonly maximumChannels: number;

  /** The exchange of `config`, made once per configuration object (a server's connections share one). */
  static of(config: PptpControlConfig): PptpStartExchange {
    let x = exchanges.get(config);
    if (!x) {
      x = new PptpStartExchange(config);
      exchanges.set(config, x);
    }
    return x;
  }

  private constructor(private readonly config: PptpControlConfig) {
    this.hostName = toPptpString(config.hostName ?? '', PPTP_HOST_NAME_LENGTH);
    this.vendorString = toPptpString(config.vendorString ?? 'pptp-ts', PPTP_VENDOR_STRING_LENGTH);
    const maxCalls = config.limits?.maxCalls ?? PPTP_DEFAULT_LIMITS.maxCalls;
    // §2.1: "In Start-Control-Connection-Requests issued by the PNS, this value SHOULD be set to 0"; a PAC
    // announces its call cap.
    this.maximumChannels = config.maximumChannels ?? (config.role === 'pac' ? maxCalls : 0);
  }

  /** Our Start-Control-Connection-Request (§2.1). */
  request(): PptpMessage {
    return {
      type: PptpMessageType.StartControlConnectionRequest,
      protocolVersion: PPTP_PROTOCOL_VERSION,
      ...this.capabilities(),
    };
  }

  /** Our Start-Control-Connection-Reply (§2.2) with this result. */
  reply(resultCode: number, errorCode: number): PptpMessage {
    return {
      type: PptpMessageType.StartControlConnectionReply,
      protocolVersion: PPTP_PROTOCOL_VERSION,
      resultCode,
      errorCode,
      ...this.capabilities(),
    };
  }

  /** The receiver's verdict on the peer's SCCRQ (§3.1.2 idle, §3.1.3). */
  judgeRequest(m: PptpStartControlConnectionRequest, log: Logger): PptpStartRequestVerdict {
    const collision = this.config.collisionCheck?.() ?? 'none';
    if (collision === 'win') {
      // §3.1.3: the winner "will wait for the Start-Control-Connection-Reply on the connection it initiated and also wait for a TCP termination indication on the connection the loser opened."
      log.log('info', 'SCCRQ collision won: waiting for the loser to close its connection');
      return { kind: 'silent' };
    }
    if (m.protocolVersion < PPTP_PROTOCOL_VERSION) {
      log.log('warn', `peer protocol version 0x${m.protocolVersion.toString(16)} not supported`, {
        reference: VERSION_REFERENCE,
      });
      return {
        kind: 'reject',
        resultCode: PptpStartResult.UnsupportedVersion,
        errorCode: 0,
        detail: `protocol version 0x${m.protocolVersion.toString(16)}; ${VERSION_REFERENCE}`,
      };
    }
    // A later version is answered with ours: "If the receiver's version is the same as earlier than the peer's, the receiver SHOULD send a Start-Control-Connection-Reply with the receiver's version" (§3.1.2).
    const admission: PptpAdmission = this.config.admitConnection?.(m) ?? { accept: true };
    if (!admission.accept) {
      log.log('info', 'SCCRQ refused by policy', { resultCode: admission.resultCode });
      return {
        kind: 'reject',
        resultCode: admission.resultCode,
        errorCode: admission.errorCode ?? 0,
        detail: 'refused by admitConnection',
      };
    }
    return { kind: 'accept' };
  }

  /** The originator's verdict on the peer's SCCRP (§3.1.1 wait_ctl_reply). */
  judgeReply(m: PptpStartControlConnectionReply, log: Logger): PptpStartReplyVerdict {
    if (m.resultCode !== PptpStartResult.Success) {
      log.log('warn', 'peer refused the control connection', {
        resultCode: m.resultCode,
        errorCode: m.errorCode,
      });
      return { kind: 'refused', resultCode: m.resultCode, errorCode: m.errorCode };
    }
    if (m.protocolVersion !== PPTP_PROTOCOL_VERSION) {
      // §3.1.1: "If the version is earlier and not supported, a Stop-Control-Connection-Request SHOULD be sent to the peer and the originator moves into the wait_stop_reply state." We speak 1.0 only.
      const error = new PptpProtocolError(
        PptpGeneralError.BadValue,
        `SCCRP protocol version 0x${m.protocolVersion.toString(16)}, we speak 0x0100 only`,
        'RFC 2637 §3.1.1: "If the version is earlier and not supported, a Stop-Control-Connection-Request SHOULD be sent to the peer"',
        PptpStopReason.StopProtocol,
        m.type,
      );
      log.log('warn', error.message);
      return { kind: 'version', error };
    }
    return { kind: 'accept' };
  }

  private capabilities() {
    return {
      framingCapabilities: this.config.framingCapabilities ?? 3,
      bearerCapabilities: this.config.bearerCapabilities ?? 3,
      maximumChannels: this.maximumChannels,
      firmwareRevision: this.config.firmwareRevision ?? 1,
      hostName: this.hostName,
      vendorString: this.vendorString,
    };
  }
}

/**
 * §3.1.3: "The 'winner' of the initiation race is the peer with the higher
 * IP address (compared as 32 bit unsigned values, network number more
 * significant)." Addresses as unsigned 32-bit numbers (`parseIpv4`).
 */
export function pptpCollisionWinner(localAddress: number, peerAddress: number): 'local' | 'peer' {
  return localAddress >>> 0 > peerAddress >>> 0 ? 'local' : 'peer';
}
