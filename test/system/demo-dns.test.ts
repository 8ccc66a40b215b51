/**
 * The demo's DNS server and stub resolver (src/cli/demo/dns-server.ts,
 * resolver.ts), on loopback: no namespaces, no root.
 *  - the server's answers, checked rule by rule with dns-packet decoding
 *    the bytes, and by an independent client: Node's own resolver (c-ares);
 *  - the resolver against a scripted server that first sends the wrong ID,
 *    then the wrong question (both must be ignored), and against a silent
 *    one (bounded tries, then a ResolveError);
 *  - `answerQuery` on mutated queries never throws and answers only with
 *    well-formed responses carrying the query's ID.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { after, describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import {
  answerQuery,
  DEMO_DNS_ADDRESS,
  DEMO_WWW_ADDRESS,
  demoZone,
  startDnsServer,
} from '../../src/cli/demo/dns-server.js';
import { ResolveError, resolve } from '../../src/cli/demo/resolver.js';
import { fuzzDecoder, fuzzIterations } from '../fuzz/mutate.js';

const zone = demoZone();

function query(
  name: string,
  type: dnsPacket.RecordType = 'A',
  extra: Partial<dnsPacket.Packet> = {},
): Uint8Array {
  return dnsPacket.encode({
    type: 'query',
    id: 0x1234,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
    ...extra,
  });
}

/** dns-packet decodes the RCODE too; its type declarations leave it out. */
type Decoded = dnsPacket.DecodedPacket & { rcode: string };

function ask(bytes: Uint8Array): Decoded {
  const a = answerQuery(zone, bytes);
  assert.ok(a, 'expected an answer');
  return dnsPacket.decode(Buffer.from(a)) as Decoded;
}

describe('demo DNS server: answerQuery', () => {
  it('answers an A query for www.example.test with the demo address, authoritatively', () => {
    const r = ask(query('www.example.test'));
    assert.equal(r.type, 'response');
    assert.equal(r.id, 0x1234);
    assert.equal(r.flag_aa, true);
    assert.equal(r.flag_rd, true, 'RD is copied from the query (RFC 1035 §4.1.1)');
    assert.equal(r.flag_ra, false, 'not a recursive server');
    assert.equal(r.rcode, 'NOERROR');
    assert.deepEqual(r.questions, [{ name: 'www.example.test', type: 'A', class: 'IN' }]);
    assert.equal(r.answers?.length, 1);
    const a = r.answers![0]! as dnsPacket.StringAnswer;
    assert.deepEqual([a.name, a.type, a.data, a.ttl], ['www.example.test', 'A', DEMO_WWW_ADDRESS, 300]);
  });

  it('matches names case-insensitively and keeps the letters of the question', () => {
    const r = ask(query('WWW.Example.TEST'));
    assert.equal(r.rcode, 'NOERROR');
    assert.equal(r.answers![0]!.name, 'WWW.Example.TEST');
    assert.equal((r.answers![0] as dnsPacket.StringAnswer).data, DEMO_WWW_ADDRESS);
  });

  it('NXDOMAIN with the SOA for a name in the zone that does not exist (RFC 2308 §2.1)', () => {
    const r = ask(query('nope.example.test'));
    assert.equal(r.rcode, 'NXDOMAIN');
    assert.equal(r.flag_aa, true);
    assert.equal(r.answers?.length, 0);
    assert.equal(r.authorities?.[0]?.type, 'SOA');
    assert.equal(r.authorities?.[0]?.name, 'example.test');
  });

  it('NODATA (NOERROR, no answers, SOA) for a type the name lacks (RFC 2308 §2.2)', () => {
    const r = ask(query('www.example.test', 'AAAA'));
    assert.equal(r.rcode, 'NOERROR');
    assert.equal(r.answers?.length, 0);
    assert.equal(r.authorities?.[0]?.type, 'SOA');
  });

  it('REFUSED outside the zone, without AA', () => {
    const r = ask(query('www.example.com'));
    assert.equal(r.rcode, 'REFUSED');
    assert.equal(r.flag_aa, false);
    assert.equal(r.answers?.length, 0);
  });

  it('NS and SOA of the apex, and the name server address', () => {
    assert.equal(
      (ask(query('example.test', 'NS')).answers![0] as dnsPacket.StringAnswer).data,
      'ns.example.test',
    );
    assert.equal(ask(query('example.test', 'SOA')).answers![0]!.type, 'SOA');
    assert.equal(
      (ask(query('ns.example.test')).answers![0] as dnsPacket.StringAnswer).data,
      DEMO_DNS_ADDRESS,
    );
  });

  it('FORMERR for two questions, NOTIMP for another opcode, silence for responses and short datagrams', () => {
    const two = dnsPacket.encode({
      type: 'query',
      id: 7,
      questions: [
        { name: 'www.example.test', type: 'A' },
        { name: 'ns.example.test', type: 'A' },
      ],
    });
    assert.equal(ask(two).rcode, 'FORMERR');
    assert.equal(ask(two).id, 7);
    const status = query('www.example.test');
    status[2] = (status[2]! & 0x87) | (2 << 3); // opcode STATUS (2)
    assert.equal(ask(status).rcode, 'NOTIMP');
    const response = query('www.example.test', 'A', { type: 'response' });
    assert.equal(answerQuery(zone, response), undefined, 'a response is never answered');
    assert.equal(answerQuery(zone, new Uint8Array(11)), undefined, 'no header, no ID to answer to');
    const garbage = new Uint8Array(40).fill(0xff);
    garbage[2] = 0x01; // a query (QR 0) whose counts promise far more than there is
    const g = ask(garbage);
    assert.equal(g.rcode, 'FORMERR');
    assert.equal(g.id, 0xffff);
  });

  it('never throws on mutated queries, and every answer is a well-formed response to that ID', () => {
    const corpus = [
      query('www.example.test'),
      query('nope.example.test', 'AAAA'),
      query('example.test', 'SOA'),
      query('www.example.com'),
    ];
    let answered = 0;
    const r = fuzzDecoder(
      (b) => {
        const a = answerQuery(zone, b);
        if (!a) return;
        answered++;
        const p = dnsPacket.decode(Buffer.from(a));
        assert.equal(p.type, 'response');
        assert.equal(p.id, (b[0]! << 8) | b[1]!);
      },
      corpus,
      Math.min(fuzzIterations(), 2000),
      0xd15,
    );
    assert.ok(answered > r.iterations / 4, `most mutated queries get an answer (${answered})`);
  });
});

describe('demo DNS server and stub resolver over UDP', () => {
  it('Node’s own resolver (c-ares) reads the server’s answers', async () => {
    const server = await startDnsServer(zone, '127.0.0.1', 0);
    after(() => server.close());
    const r = new Resolver({ timeout: 2000, tries: 2 });
    r.setServers([`127.0.0.1:${server.port}`]);
    assert.deepEqual(await r.resolve4('www.example.test'), [DEMO_WWW_ADDRESS]);
    await assert.rejects(r.resolve4('nope.example.test'), { code: 'ENOTFOUND' });
    await assert.rejects(r.resolve4('www.example.com'), { code: 'EREFUSED' });
    assert.ok(server.stats.answered >= 3);
  });

  it('the stub resolver gets the answer, with its ID and RTT', async () => {
    const server = await startDnsServer(zone, '127.0.0.1', 0);
    after(() => server.close());
    const r = await resolve('www.example.test', '127.0.0.1', { port: server.port });
    assert.equal(r.rcode, 'NOERROR');
    assert.equal(r.authoritative, true);
    assert.deepEqual(r.answers, [{ name: 'www.example.test', type: 'A', ttl: 300, data: DEMO_WWW_ADDRESS }]);
    assert.equal(r.tries, 1);
    assert.ok(r.rttMs >= 0 && r.rttMs < 2000);
    const nx = await resolve('nope.example.test', '127.0.0.1', { port: server.port });
    assert.equal(nx.rcode, 'NXDOMAIN');
    assert.equal(nx.answers.length, 0);
  });

  it('ignores a reply with the wrong ID or the wrong question, and takes the right one', async () => {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    after(() => sock.close());
    const seen: string[] = [];
    sock.on('message', (msg, rinfo) => {
      const q = dnsPacket.decode(msg);
      const reply = (id: number, name: string, data: string) =>
        sock.send(
          dnsPacket.encode({
            type: 'response',
            id,
            flags: dnsPacket.AUTHORITATIVE_ANSWER,
            questions: [{ name, type: 'A', class: 'IN' }],
            answers: [{ name, type: 'A', class: 'IN', ttl: 1, data }],
          }),
          rinfo.port,
          rinfo.address,
        );
      seen.push(q.questions![0]!.name);
      reply((q.id! + 1) & 0xffff, 'www.example.test', '192.0.2.1'); // wrong ID
      reply(q.id!, 'evil.example.test', '192.0.2.2'); // wrong question
      setTimeout(() => reply(q.id!, 'www.example.test', '192.0.2.3'), 50);
    });
    const r = await resolve('www.example.test', '127.0.0.1', { port: sock.address().port, timeoutMs: 1000 });
    assert.deepEqual(
      r.answers.map((a) => a.data),
      ['192.0.2.3'],
    );
    assert.deepEqual(seen, ['www.example.test']);
  });

  it('gives up after the tries with a ResolveError when nobody answers', async () => {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    after(() => sock.close());
    let queries = 0;
    const ids = new Set<number>();
    sock.on('message', (msg) => {
      queries++;
      ids.add(dnsPacket.decode(msg).id!);
    });
    const t0 = performance.now();
    await assert.rejects(
      resolve('www.example.test', '127.0.0.1', { port: sock.address().port, timeoutMs: 150, tries: 3 }),
      ResolveError,
    );
    const ms = performance.now() - t0;
    assert.equal(queries, 3);
    assert.equal(ids.size, 3, 'a fresh ID per try');
    assert.ok(ms >= 400 && ms < 3000, `bounded: ${ms.toFixed(0)} ms`);
  });
});
