/**
 * The login storm (`--storm`) and the room the bench gives the full PPTP
 * Call ID space (docs/sessions.md): what limits N sessions first on each
 * side, and the pure arithmetic the bench and the report use for them.
 *
 * A PPTP Call ID is 16 bits (RFC 2637 §2.8, Outgoing-Call-Reply: "A unique
 * identifier for the tunnel, assigned by the PAC to this session"), and the
 * server hands out non-zero ones, so one server holds at most 65,535 calls;
 * the generator's own Call IDs (§2.7, "unique to a particular PAC-PNS pair")
 * have the same room towards the one server. The bench sizes everything
 * else to let it get there.
 */
import type { SetupFigures, StormOutcome, TargetCheck } from './report.js';

/** The most sessions one server can hold: non-zero 16-bit Call IDs. */
export const CALL_ID_SPACE = 65_535;

/**
 * Ephemeral ports the bench gives the client namespace
 * (`net.ipv4.ip_local_port_range = 1024 65535`): the TCP connections one
 * source address can have open to the server's port 1723 at once.
 */
export const CLIENT_PORTS_PER_ADDRESS = 65_535 - 1024 + 1;

/** Client underlay addresses the bench will add (the lab's /24 holds 198.18.0.2-.254). */
export const MAX_CLIENT_ADDRESSES = 200;

/**
 * The server's pool: 10.99.0.0/16 gives 65,534 addresses (network and
 * broadcast left out), one short of the Call ID space; a /24 beside it
 * gives the rest.
 */
export const BENCH_POOL = '10.99.0.0/16,10.100.0.0/24';

/** A server route of a pool address (`ip route show dev pptps0`). */
export const POOL_ROUTE = /^10\.(99|100)\./;

/** `k` consecutive IPv4 addresses from `first` (the generator's source addresses). */
export function clientAddressList(first: string, k: number): string[] {
  const o = first.split('.').map(Number);
  if (o.length !== 4 || o.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) {
    throw new Error(`not an IPv4 address: ${first}`);
  }
  const base = ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
  if ((base & 0xff) + k - 1 > 254) throw new Error(`${k} addresses from ${first} leave its /24`);
  const out: string[] = [];
  for (let i = 0; i < k; i++) {
    const a = base + i;
    out.push(`${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`);
  }
  return out;
}

/**
 * Why `sessions` sessions cannot run as asked, or undefined: more than the
 * Call ID space, or more TCP connections than `clientAddresses` source
 * addresses have ephemeral ports.
 */
export function sessionsSpaceProblem(
  sessions: number,
  callsPerConnection: number,
  clientAddresses: number,
): string | undefined {
  if (sessions > CALL_ID_SPACE) {
    return `--sessions ${sessions}: one server holds at most ${CALL_ID_SPACE} calls (16-bit Call IDs, RFC 2637 §2.8)`;
  }
  const connections = Math.ceil(sessions / Math.max(1, callsPerConnection));
  const room = clientAddresses * CLIENT_PORTS_PER_ADDRESS;
  if (connections > room) {
    const need = Math.ceil(connections / CLIENT_PORTS_PER_ADDRESS);
    return `${connections} TCP connections need --client-addresses ${need} or more (${CLIENT_PORTS_PER_ADDRESS} ephemeral ports per source address)`;
  }
  return undefined;
}

/** The generator's --max-old-space-size, MiB: 128 KiB a session, at least 8 GiB (a ceiling, not a reservation). */
export function generatorHeapMb(sessions: number): number {
  return Math.max(8192, Math.ceil((sessions * 128) / 1024));
}

/**
 * File descriptors a side needs: one TCP connection per control connection
 * (`callsPerConnection` calls each), plus room for the rest. Raising a hard
 * limit needs CAP_SYS_RESOURCE; without it the run stops at prlimit.
 */
export function fileLimitFor(sessions: number, callsPerConnection = 1): number {
  return Math.ceil(sessions / Math.max(1, callsPerConnection)) + 4096;
}

/** Whether a generator failure text is the server refusing (OCRP / SCCRP result not "connected"/"success"). */
export function isRefusal(failureKey: string): boolean {
  return /refused the (call|control connection)/.test(failureKey);
}

/**
 * Sorts the storm's failures (failure key → count, from the generator) by
 * the server's counters after the storm (`status` line): a refusal is put
 * down to a configured limit only as far as the server counted refusals,
 * which it does only for its limits (admission.ts) and while shutting
 * down, which the bench's server is not.
 */
export function stormOutcome(
  failures: Readonly<Record<string, number>>,
  counters: Readonly<Record<string, number>>,
): StormOutcome {
  let refusals = 0;
  let total = 0;
  for (const [k, v] of Object.entries(failures)) {
    total += v;
    if (isRefusal(k)) refusals += v;
  }
  const serverRefusals = (counters.callsRefused ?? 0) + (counters.connectionsRefused ?? 0);
  const refusedForLimit = Math.min(refusals, serverRefusals);
  return { refusedForLimit, otherFailures: total - refusedForLimit, serverRefusals };
}

/** The storm target: 10,000 clients redialling at once, ≥ 2,000 set-ups/s, users in chap-secrets. */
export const STORM_TARGET = { sessions: 10_000, setupsPerSec: 2000 } as const;

/** The storm row of the targets table. */
export function stormTargetCheck(
  sessions: number,
  auth: 'chap-secrets' | 'radius',
  setup: SetupFigures,
): TargetCheck {
  const t = STORM_TARGET;
  const subject = 'login storm (every client redials after a server restart)';
  const target = `${t.sessions.toLocaleString('en-US')} clients at once all up, ≥ ${t.setupsPerSec.toLocaleString('en-US')} set-ups/s, chap-secrets`;
  const measured = `${setup.up.toLocaleString('en-US')} of ${sessions.toLocaleString('en-US')} up, ${setup.overallPerSec.toFixed(0)} set-ups/s`;
  if (sessions < t.sessions) {
    return {
      subject,
      target,
      measured,
      status: 'n/a',
      why: `ran ${sessions} sessions, the target is for ${t.sessions}`,
    };
  }
  if (auth !== 'chap-secrets') {
    return {
      subject,
      target,
      measured,
      status: 'n/a',
      why: 'the target is with chap-secrets, this run used RADIUS',
    };
  }
  const pass = setup.up === sessions && setup.overallPerSec >= t.setupsPerSec;
  return { subject, target, measured, status: pass ? 'pass' : 'fail' };
}
