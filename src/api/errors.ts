/**
 * The library's errors: one class per kind of failure a caller may act on,
 * each with a stable `code` string (match on `code` or `instanceof`; the
 * message is for people and may change).
 *
 * | class                  | code                        | when |
 * |------------------------|-----------------------------|------|
 * | {@link PptpError}      | (base)                      | every error below |
 * | {@link ConfigError}    | `ERR_PPTP_CONFIG`           | bad options or server config |
 * | {@link PermissionError}| `ERR_PPTP_PERMISSION`       | no root / CAP_NET_ADMIN + CAP_NET_RAW, or another local set-up failure |
 * | {@link ConnectError}   | `ERR_PPTP_CONNECT`          | the server cannot be reached |
 * | {@link AuthError}      | `ERR_PPTP_AUTH`             | wrong user or password, or the server failed to prove itself |
 * | {@link NegotiationError}| `ERR_PPTP_NEGOTIATION`     | refused call, no common method, MPPE refused, protocol error |
 * | {@link TimeoutError}   | `ERR_PPTP_TIMEOUT`          | the peer stopped answering, or the tunnel did not come up in time |
 * | {@link HangUpError}    | `ERR_PPTP_HANGUP`           | the server ended the tunnel |
 * | {@link AbortError}     | `ABORT_ERR`                 | the caller's `AbortSignal` fired (Node's own code for it) |
 * | {@link CaptureError}   | `ERR_PPTP_CAPTURE`          | `decode()` was given something that is not a pcap/pcapng capture |
 * | {@link InternalError}  | `ERR_PPTP_INTERNAL`         | a bug |
 */

/** Every error the library throws or reports. */
export class PptpError extends Error {
  /** A stable machine-readable code. */
  readonly code: PptpErrorCode;
  constructor(code: PptpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
  override get name(): string {
    return this.constructor.name;
  }
}

/** Bad options: the message names the option. */
export class ConfigError extends PptpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PPTP_CONFIG', message, options);
  }
}

/** Local set-up failed: TUN, raw GRE socket, addresses, routes (usually: not root). */
export class PermissionError extends PptpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PPTP_PERMISSION', message, options);
  }
}

/** The server could not be reached (name, route, TCP). */
export class ConnectError extends PptpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PPTP_CONNECT', message, options);
  }
}

/** Authentication failed, either way. */
export class AuthError extends PptpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PPTP_AUTH', message, options);
  }
}

/** The two ends could not agree (call refused, methods, MPPE, protocol error). */
export class NegotiationError extends PptpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PPTP_NEGOTIATION', message, options);
  }
}

/** Something did not answer in time. */
export class TimeoutError extends PptpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PPTP_TIMEOUT', message, options);
  }
}

/** The other end ended the tunnel. */
export class HangUpError extends PptpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PPTP_HANGUP', message, options);
  }
}

/** The caller's `AbortSignal` fired. */
export class AbortError extends PptpError {
  constructor(message = 'the operation was aborted', options?: { cause?: unknown }) {
    super('ABORT_ERR', message, options);
  }
}

/** Not a readable capture. */
export class CaptureError extends PptpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PPTP_CAPTURE', message, options);
  }
}

/** A bug. */
export class InternalError extends PptpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PPTP_INTERNAL', message, options);
  }
}

/** Every stable code, for exhaustive `switch`es. */
export type PptpErrorCode =
  | 'ERR_PPTP_CONFIG'
  | 'ERR_PPTP_PERMISSION'
  | 'ERR_PPTP_CONNECT'
  | 'ERR_PPTP_AUTH'
  | 'ERR_PPTP_NEGOTIATION'
  | 'ERR_PPTP_TIMEOUT'
  | 'ERR_PPTP_HANGUP'
  | 'ABORT_ERR'
  | 'ERR_PPTP_CAPTURE'
  | 'ERR_PPTP_INTERNAL';
