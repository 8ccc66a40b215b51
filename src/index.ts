/**
 * pptp-ts as a library (docs/api.md): a PPTP client (`connect`), a PPTP
 * server with a pluggable authenticator (`createServer`), the capture
 * decoder (`decode`), and typed errors with stable codes.
 */
export type {
  Authenticator,
  AuthRejectReason,
  AuthRequest,
  AuthResult,
} from './api/authenticator.js';
export {
  type ClientEvents,
  type ConnectOptions,
  connect,
  type MppePolicy,
  PptpClientHandle,
  type TunnelDown,
  type TunnelUp,
} from './api/client.js';
export type { AuthMethod, LogLevel, LogOptions, MppeInfo, TunnelStats } from './api/common.js';
export {
  type DecodedLayer,
  type DecodedPacketJson,
  type DecodeOptions,
  type DecodeResult,
  decode,
  type JsonValue,
} from './api/decode.js';
export {
  AbortError,
  AuthError,
  CaptureError,
  ConfigError,
  ConnectError,
  HangUpError,
  InternalError,
  NegotiationError,
  PermissionError,
  PptpError,
  type PptpErrorCode,
  TimeoutError,
} from './api/errors.js';
export {
  createServer,
  PptpServerHandle,
  type ServerCounters,
  type ServerEvents,
  type ServerOptions,
  type ServerSession,
  type SessionDownEvent,
  type SessionUpEvent,
} from './api/server.js';
