/**
 * Exit codes of `pptp-ts connect`. Where pppd has a code for the same
 * situation (pppd(8) "EXIT STATUS") we use its number, so scripts written
 * for pppd keep working; the one pppd lacks (MPPE refused) gets 21.
 */
export enum ExitCode {
  /** Stopped on request (SIGINT/SIGTERM) and torn down cleanly. */
  Ok = 0,
  /** An internal error (a bug). */
  Fatal = 1,
  /** Bad command line or configuration (pppd EXIT_OPTION_ERROR). */
  Usage = 2,
  /** Local set-up failed: TUN interface, raw GRE socket, addresses or routes (needs root). */
  Setup = 4,
  /** The server could not be reached: name not resolved, no route, TCP refused or timed out (pppd EXIT_CONNECT_FAILED). */
  ConnectFailed = 8,
  /** The server refused the control connection or the call, a protocol error, or LCP/IPCP could not agree (pppd EXIT_NEGOTIATION_FAILED). */
  NegotiationFailed = 10,
  /** The server failed to prove its identity (MS-CHAP-v2 authenticator response mismatch) (pppd EXIT_PEER_AUTH_FAILED). */
  PeerAuthFailed = 11,
  /** The server stopped answering: PPTP handshake or echo time-out, LCP echo failures (pppd EXIT_PEER_DEAD). */
  PeerSilent = 15,
  /** The server ended the session: LCP Terminate, Call-Disconnect-Notify, Stop-Control-Connection, TCP closed (pppd EXIT_HANGUP). */
  HangUp = 16,
  /** The link is looped back (pppd EXIT_LOOPBACK). */
  Loopback = 17,
  /** The server refused our credentials (pppd EXIT_AUTH_TOPEER_FAILED). */
  AuthFailed = 19,
  /** MPPE was required and the server refused it, or no acceptable strength (no pppd equivalent). */
  MppeRefused = 21,
}

/** The table printed by `--help` and in docs/client-server.md. */
export const EXIT_CODE_TABLE: readonly { code: ExitCode; meaning: string }[] = [
  { code: ExitCode.Ok, meaning: 'stopped on request (SIGINT/SIGTERM), everything torn down' },
  { code: ExitCode.Fatal, meaning: 'internal error' },
  { code: ExitCode.Usage, meaning: 'bad command line, unreadable password file' },
  { code: ExitCode.Setup, meaning: 'cannot create the interface, raw socket, addresses or routes (root?)' },
  { code: ExitCode.ConnectFailed, meaning: 'server unreachable or TCP connection refused' },
  { code: ExitCode.NegotiationFailed, meaning: 'server refused the connection/call, or negotiation failed' },
  { code: ExitCode.PeerAuthFailed, meaning: 'the server failed to authenticate itself' },
  { code: ExitCode.PeerSilent, meaning: 'the server stopped answering (time-outs)' },
  { code: ExitCode.HangUp, meaning: 'the server hung up' },
  { code: ExitCode.Loopback, meaning: 'the link is looped back' },
  { code: ExitCode.AuthFailed, meaning: 'authentication failed (wrong user or password)' },
  { code: ExitCode.MppeRefused, meaning: 'MPPE required but refused by the server' },
];

/** Codes after which `--persist` does not try again: they would fail the same way. */
export function isRetryable(code: ExitCode): boolean {
  return (
    code !== ExitCode.Ok && code !== ExitCode.Fatal && code !== ExitCode.Usage && code !== ExitCode.Setup
  );
}
