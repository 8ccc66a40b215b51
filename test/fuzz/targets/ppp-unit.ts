/**
 * Fuzz targets for the PPP engines (not decoders: the property is that
 * hostile frames never make an engine throw). Each input is one frame for a
 * unit whose link is up with MS-CHAP-v2 and MPPE-128: the first two bytes
 * pick the PPP protocol, the rest is the Information field. The corpus is
 * the wire log of a real negotiation between two units plus encrypted data,
 * so mutations land on LCP, CHAP, IPCP, CCP and 0x00FD frames.
 *
 * A unit that a mutation killed (Terminate-Request, a fatal Nak...) is
 * replaced by a freshly negotiated one, so every input exercises a live
 * link; state also drifts between inputs, as it would under attack.
 */
import { Fsm } from '../../../src/ppp/fsm.js';
import { LcpPolicy } from '../../../src/ppp/lcp.js';
import type { PppUnit } from '../../../src/ppp/unit.js';
import { parseIpv4 } from '../../../src/wire/bytes.js';
import { ipv4Packet, LinkPair, SECRETS } from '../../ppp/unit-harness.js';
import type { FuzzTarget } from '../mutate.js';

function negotiatedPair(): LinkPair {
  const pair = new LinkPair(
    { user: 'alice', password: 'secret', usePeerDns: true, ipv6: true },
    {
      lookup: SECRETS,
      localAddress: parseIpv4('10.0.0.1')!,
      remoteAddress: parseIpv4('10.0.0.2')!,
      msDns: [parseIpv4('10.0.0.1')!],
      ipv6: true,
    },
  );
  pair.start();
  if (!pair.run(() => pair.bothPassing())) throw new Error('fuzz fixture: the link did not come up');
  for (let i = 0; i < 4; i++) {
    pair.units.a.sendPacket(ipv4Packet(64 + 100 * i, i));
    pair.units.b.sendPacket(ipv4Packet(64 + 100 * i, i + 9));
  }
  pair.runFor(10);
  return pair;
}

const corpusPair = negotiatedPair();
const CORPUS: Uint8Array[] = corpusPair.wireLog.map((f) => {
  const b = new Uint8Array(2 + f.payload.length);
  b[0] = f.protocol >>> 8;
  b[1] = f.protocol & 0xff;
  b.set(f.payload, 2);
  return b;
});

let live: LinkPair | undefined;
let fed = 0;

/** Delivers one fuzz frame to the server unit of a live pair, then whatever the pair sends in reply. */
function feedUnit(bytes: Uint8Array): void {
  if (live?.units.b.phase !== 'Network' || fed++ > 500) {
    live = negotiatedPair();
    fed = 0;
  }
  const unit: PppUnit = live.units.b;
  if (bytes.length < 2) return;
  const protocol = (bytes[0]! << 8) | bytes[1]!;
  live.act('b', unit.receive({ protocol, payload: bytes.subarray(2) }));
  live.settle(200);
}

let lcpFsm: Fsm<unknown> | undefined;
/** Feeds an LCP automaton directly, Opened or not, so every state sees garbage. */
function feedLcp(bytes: Uint8Array): void {
  if (!lcpFsm || lcpFsm.state === 'Initial' || (fed & 63) === 0) {
    lcpFsm = new Fsm(
      new LcpPolicy({ authenticate: ['mschap-v2', 'pap'], allowAuth: ['mschap-v2', 'chap-md5'] }),
    );
    lcpFsm.open();
    lcpFsm.lowerUp();
  }
  fed++;
  lcpFsm.receive(bytes);
  if ((fed & 7) === 0) lcpFsm.timeout();
}

export const targets: FuzzTarget[] = [
  {
    name: 'ppp unit: hostile frames on a live link',
    engine: true,
    decode: feedUnit,
    corpus: CORPUS,
    check: () => {
      if (!live) return;
      const u = live.units.b as unknown as {
        v4: { queue: unknown[] | undefined };
        v6: { queue: unknown[] | undefined };
        authResults: unknown[];
      };
      // The unit's npmode queues hold at most queueLimit (32) packets each; one authentication per direction.
      for (const q of [u.v4.queue, u.v6.queue])
        if (q && q.length > 32) throw new Error(`npmode queue of ${q.length}`);
      if (u.authResults.length > 2) throw new Error(`${u.authResults.length} authentication results`);
    },
  },
  {
    name: 'ppp lcp automaton: hostile packets',
    decode: feedLcp,
    corpus: CORPUS.filter((b) => b[0] === 0xc0 && b[1] === 0x21).map((b) => b.subarray(2)),
  },
];
