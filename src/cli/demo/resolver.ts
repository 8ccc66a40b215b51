/**
 * The demo's stub resolver: one question over UDP to one server, the way a
 * libc stub resolver asks (RD set, a random ID, a few tries with a
 * time-out), built on `dns-packet` and `node:dgram`. It runs inside the
 * demo's client host, where the route to the DNS server goes into the
 * tunnel, so its datagram is the one the demo then shows layer by layer.
 *
 * A reply is accepted only if it comes from the server's address and port
 * (the socket is connected), carries the query's ID, is a response, and
 * repeats the question: what RFC 5452 §3 says a resolver checks before it
 * accepts DNS data. Anything else is ignored and the wait goes on.
 */
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import { commandArgs, usageError } from '../args.js';
import { DEMO_DNS_ADDRESS, DEMO_QUERY_NAME } from './dns-server.js';

/** One answer record, as text. */
export interface ResolvedRecord {
  readonly name: string;
  readonly type: string;
  readonly ttl: number;
  readonly data: string;
}

/** What a lookup found. */
export interface Resolution {
  readonly name: string;
  readonly type: string;
  readonly server: string;
  readonly id: number;
  readonly rcode: string;
  readonly authoritative: boolean;
  readonly answers: readonly ResolvedRecord[];
  /** Round-trip time of the try that was answered, ms. */
  readonly rttMs: number;
  /** Tries made (1 when the first was answered). */
  readonly tries: number;
}

export interface ResolveOptions {
  readonly type?: 'A' | 'AAAA' | 'NS' | 'SOA';
  readonly port?: number;
  /** Per try (default 1500 ms). */
  readonly timeoutMs?: number;
  /** Default 3. */
  readonly tries?: number;
}

/** No usable answer came back in time. */
export class ResolveError extends Error {
  override readonly name = 'ResolveError';
}

function dataText(a: dnsPacket.Answer): string {
  const d = (a as { data?: unknown }).data;
  if (typeof d === 'string') return d;
  if (d && typeof d === 'object' && 'mname' in d) return `${(d as { mname: string }).mname}`;
  return JSON.stringify(d);
}

/** Whether `p` answers the question `{name, type}` asked with `id`. */
export function matchesQuestion(p: dnsPacket.DecodedPacket, id: number, name: string, type: string): boolean {
  if (p.type !== 'response' || p.id !== id) return false;
  const q = p.questions?.[0];
  return (
    p.questions?.length === 1 &&
    q !== undefined &&
    q.name.toLowerCase() === name.toLowerCase() &&
    q.type === type &&
    (q.class ?? 'IN') === 'IN'
  );
}

/** Asks `server` for `name` (type A by default). Rejects with {@link ResolveError} when every try times out. */
export function resolve(name: string, server: string, opts: ResolveOptions = {}): Promise<Resolution> {
  const type = opts.type ?? 'A';
  const port = opts.port ?? 53;
  const timeoutMs = opts.timeoutMs ?? 1500;
  const maxTries = opts.tries ?? 3;
  const socket = createSocket({ type: 'udp4' });
  return new Promise<Resolution>((resolvePromise, reject) => {
    let tries = 0;
    let id = 0;
    let sentAt = 0;
    let timer: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (err: Error | undefined, r?: Resolution) => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolvePromise(r!);
    };
    const send = () => {
      if (tries >= maxTries) {
        finish(new ResolveError(`no answer from ${server} for ${name} after ${tries} tries`));
        return;
      }
      tries++;
      // A fresh ID per try, as stub resolvers do, so a late answer to an earlier try is not taken.
      id = randomInt(0, 0x10000);
      const q = dnsPacket.encode({
        type: 'query',
        id,
        flags: dnsPacket.RECURSION_DESIRED,
        questions: [{ type, name, class: 'IN' }],
      });
      sentAt = performance.now();
      socket.send(q, (err) => {
        if (err) finish(new ResolveError(`cannot send to ${server}: ${err.message}`));
      });
      timer = setTimeout(send, timeoutMs);
    };
    socket.on('message', (msg) => {
      let p: dnsPacket.DecodedPacket;
      try {
        p = dnsPacket.decode(msg);
      } catch {
        return; // not DNS: keep waiting
      }
      if (!matchesQuestion(p, id, name, type)) return;
      finish(undefined, {
        name,
        type,
        server,
        id,
        rcode: (p as { rcode?: string }).rcode ?? 'NOERROR',
        authoritative: p.flag_aa === true,
        answers: (p.answers ?? []).map((a) => ({
          name: a.name,
          type: a.type,
          ttl: (a as { ttl?: number }).ttl ?? 0,
          data: dataText(a),
        })),
        rttMs: performance.now() - sentAt,
        tries,
      });
    });
    socket.on('error', (err) => finish(new ResolveError(`${server}: ${err.message}`)));
    socket.connect(port, server, () => send());
  });
}

const USAGE = `usage: pptp-ts demo resolve [NAME] [--server ADDR] [--type A|AAAA|NS|SOA] [--json]

Asks one DNS server one question over UDP, as a stub resolver does, and
prints the answer. Defaults: ${DEMO_QUERY_NAME}, server ${DEMO_DNS_ADDRESS}, type A.
`;

/** `pptp-ts demo resolve`: exit 0 with an answer, 1 on no answer or an error rcode, 2 on usage errors. */
export async function runResolve(argv: string[]): Promise<number> {
  const args = commandArgs(
    argv,
    {
      positionals: true,
      options: {
        server: { type: 'string' },
        type: { type: 'string' },
        json: { type: 'boolean' },
      },
    },
    USAGE,
    usageError('demo resolve', USAGE),
  );
  if (typeof args === 'number') return args;
  const { values, positionals } = args;
  const type = (values.type ?? 'A').toUpperCase();
  if (type !== 'A' && type !== 'AAAA' && type !== 'NS' && type !== 'SOA') {
    process.stderr.write(`pptp-ts demo resolve: --type must be A, AAAA, NS or SOA\n`);
    return 2;
  }
  if (positionals.length > 1) {
    process.stderr.write(`pptp-ts demo resolve: one name at a time\n${USAGE}`);
    return 2;
  }
  const name = positionals[0] ?? DEMO_QUERY_NAME;
  const server = values.server ?? DEMO_DNS_ADDRESS;
  try {
    const r = await resolve(name, server, { type });
    if (values.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else {
      const what = r.answers.length
        ? r.answers.map((a) => `${a.type} ${a.data}`).join(', ')
        : `no ${type} record`;
      process.stdout.write(
        `${name}: ${what} (${r.rcode}${r.authoritative ? ', authoritative' : ''}, ${r.rttMs.toFixed(1)} ms from ${server})\n`,
      );
    }
    return r.rcode === 'NOERROR' ? 0 : 1;
  } catch (e) {
    process.stderr.write(`pptp-ts demo resolve: ${(e as Error).message}\n`);
    return 1;
  }
}
