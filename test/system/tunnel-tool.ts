/**
 * Small network tools the tunnel system tests run inside namespaces
 * (`node --import tsx test/system/tunnel-tool.ts CMD ...`):
 *
 *   dns-server BIND            answers A queries for *.pptp.test on BIND:53 (dns-packet)
 *   dns-query SERVER NAME      one A query; prints "answer NAME ADDRESS"
 *   tcp-sink BIND PORT         takes one connection; prints "sink BYTES SHA256"
 *   tcp-send HOST PORT BYTES   sends BYTES random bytes; prints "sent BYTES SHA256"
 *
 * Every wait is bounded; a failure exits non-zero with a message.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import dnsPacket from 'dns-packet';

/** The fixed answer for any name under pptp.test. */
export const DNS_ANSWER = '192.0.2.123';

function fail(msg: string): never {
  process.stderr.write(`tunnel-tool: ${msg}\n`);
  process.exit(1);
}

function deadline(ms: number, what: string): NodeJS.Timeout {
  return setTimeout(() => fail(`${what}: timed out after ${ms} ms`), ms);
}

const [cmd, ...args] = process.argv.slice(2);

switch (cmd) {
  case 'dns-server': {
    const bind = args[0] ?? fail('dns-server BIND');
    const s = createSocket('udp4');
    s.on('message', (msg, rinfo) => {
      let q: dnsPacket.Packet;
      try {
        q = dnsPacket.decode(msg);
      } catch {
        return;
      }
      const question = q.questions?.[0];
      if (!question) return;
      const ok = question.type === 'A' && /\.pptp\.test$/i.test(question.name);
      const answer = dnsPacket.encode({
        type: 'response',
        id: q.id ?? 0,
        flags: dnsPacket.AUTHORITATIVE_ANSWER | (ok ? 0 : 3), // rcode 3 = NXDOMAIN
        questions: [question],
        answers: ok ? [{ type: 'A', name: question.name, ttl: 60, class: 'IN', data: DNS_ANSWER }] : [],
      });
      s.send(answer, rinfo.port, rinfo.address);
      process.stdout.write(`query ${question.name} from ${rinfo.address}\n`);
    });
    s.bind(53, bind, () => process.stdout.write('dns ready\n'));
    break;
  }
  case 'dns-query': {
    const [server, name] = args;
    if (!server || !name) fail('dns-query SERVER NAME');
    const s = createSocket('udp4');
    const t = deadline(5000, 'dns-query');
    const id = randomBytes(2).readUInt16BE(0);
    s.on('message', (msg) => {
      const r = dnsPacket.decode(msg);
      if (r.id !== id) return;
      clearTimeout(t);
      const a = r.answers?.find((x) => x.type === 'A');
      s.close();
      if (!a) fail(`no A record for ${name}`);
      process.stdout.write(`answer ${name} ${String((a as { data?: unknown }).data)}\n`);
    });
    s.send(
      dnsPacket.encode({
        type: 'query',
        id,
        flags: dnsPacket.RECURSION_DESIRED,
        questions: [{ type: 'A', name }],
      }),
      53,
      server,
    );
    break;
  }
  case 'tcp-sink': {
    const [bind, port] = args;
    if (!bind || !port) fail('tcp-sink BIND PORT');
    const t = deadline(120_000, 'tcp-sink');
    const srv = createServer((c) => {
      const h = createHash('sha256');
      let n = 0;
      c.on('data', (d: Buffer) => {
        n += d.length;
        h.update(d);
      });
      c.on('end', () => {
        clearTimeout(t);
        process.stdout.write(`sink ${n} ${h.digest('hex')}\n`);
        c.end();
        srv.close();
      });
      c.on('error', (e) => fail(`tcp-sink: ${e.message}`));
    });
    srv.listen(Number(port), bind, () => process.stdout.write('sink ready\n'));
    break;
  }
  case 'tcp-send': {
    const [host, port, bytes] = args;
    if (!host || !port || !bytes) fail('tcp-send HOST PORT BYTES');
    const total = Number(bytes);
    const t = deadline(120_000, 'tcp-send');
    const h = createHash('sha256');
    const c = connect(Number(port), host, () => {
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          const chunk = randomBytes(Math.min(65536, total - sent));
          sent += chunk.length;
          h.update(chunk);
          if (!c.write(chunk)) {
            c.once('drain', pump);
            return;
          }
        }
        c.end();
      };
      pump();
    });
    c.on('close', (hadError) => {
      clearTimeout(t);
      if (hadError) fail('tcp-send: connection failed');
      process.stdout.write(`sent ${total} ${h.digest('hex')}\n`);
    });
    c.on('error', (e) => fail(`tcp-send: ${e.message}`));
    c.resume();
    break;
  }
  default:
    fail(`unknown command ${cmd}`);
}
