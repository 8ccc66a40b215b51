/**
 * bench/lab/latency-split.ts: the tshark fields of two captures (client and
 * server namespace) become per-hop delays, each echo matched by its
 * sequence number at both ends of the hop.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFields, splitHops } from '../latency-split.js';

// time|ip.proto|sll.pkttype|icmp.type|icmp.seq, as tshark prints them; GRE carries the ICMP inside (47;1).
const client = [
  '100.000000|1|4|8|1', // request leaves the client's stack into the TUN
  '100.000200|47;1|4|8|1', // as GRE on the veth
  '100.000900|47;1|0|0|1', // the reply comes back as GRE
  '100.001000|1|0|0|1', // and reaches the client's stack
  '100.001100|47|0||', // an acknowledgment-only GRE packet: no ICMP, ignored
  '200.000000|1|4|8|2', // a request never answered: counted only where both ends exist
].join('\n');
const server = [
  '100.000210|47;1|0|8|1',
  '100.000500|1|0|8|1',
  '100.000520|1|4|0|1',
  '100.000600|47;1|4|0|1',
].join('\n');

describe('latency split', () => {
  it('matches each echo at both ends of each hop', () => {
    const hops = splitHops(parseFields(client), parseFields(server));
    const us = Object.fromEntries(hops.map((h) => [h.hop, Math.round(h.medianUs)]));
    assert.deepEqual(us, {
      'client process, request (TUN -> GRE)': 200,
      'wire, request': 10,
      'server process, request (GRE -> TUN)': 290,
      'server kernel, echo': 20,
      'server process, reply (TUN -> GRE)': 80,
      'wire, reply': 300,
      'client process, reply (GRE -> TUN)': 100,
      'round trip, client TUN to TUN': 1000,
    });
    // The hops of one round trip add up to it.
    const sum = hops.slice(0, -1).reduce((s, h) => s + h.medianUs, 0);
    assert.ok(Math.abs(sum - hops.at(-1)!.medianUs) < 1e-3);
    assert.equal(hops.find((h) => h.hop === 'round trip, client TUN to TUN')!.n, 1);
  });

  it('gives no figure for a hop nothing crossed', () => {
    const hops = splitHops(parseFields(''), parseFields(server));
    assert.ok(hops.every((h) => h.n === 0 || h.hop.startsWith('server')));
    assert.ok(Number.isNaN(hops[0]!.medianUs));
  });
});
