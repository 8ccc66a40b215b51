/**
 * Decoding the Configuration Options a peer sends, the same way in every
 * control protocol policy (LCP, IPCP, IPv6CP, CCP): a malformed option is
 * normal input, never an exception (docs/style.md §3).
 */
import type { CpOption } from '../wire/cp.js';
import { WireError } from '../wire/errors.js';
import type { PolicyContext } from './fsm-policy.js';

/**
 * The options of a Configure-Nak, decoded; undefined when one of them is
 * malformed (the policy then refuses the whole Nak, which the automaton
 * treats as a bad packet).
 */
export function decodeNakOptions<T>(
  options: readonly CpOption[],
  decode: (o: CpOption) => T,
): T[] | undefined {
  try {
    return options.map(decode);
  } catch (e) {
    if (e instanceof WireError) return undefined;
    throw e;
  }
}

/**
 * One option of the peer's Configure-Request, decoded; a malformed one
 * (wrong Length for its type) goes to `reject` as it came and gives
 * undefined. Like pppd we Reject rather than Nak it (RFC 1661 §6 suggests a
 * Nak with a proper Length): that never loops, and tells the peer exactly
 * which option we could not parse.
 */
export function decodeRequestOption<T, N>(
  raw: CpOption,
  decode: (o: CpOption) => T,
  reject: CpOption[],
  ctx: PolicyContext<N>,
): T | undefined {
  try {
    return decode(raw);
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    ctx.log.log('debug', 'rejecting malformed option', { error: e.message });
    reject.push(raw);
    return undefined;
  }
}
