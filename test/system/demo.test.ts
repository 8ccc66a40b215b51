/**
 * `pptp-ts demo`, end to end, as a user runs it (root, real namespaces,
 * the real `pptp-ts serve` and `pptp-ts connect`):
 *  - its output holds the decoded DNS query and answer, layer by layer
 *    (outer IPv4 → GRE → PPP → MPPE → decrypted PPP → IPv4 → UDP → DNS),
 *    the handshake in order, and the ping result;
 *  - nothing is left behind: namespaces, processes, temp dir;
 *  - tshark, reading the demo's capture (`--pcap`), decodes the outer
 *    packets correctly and agrees with our dissector: the PPTP control
 *    message types in order, every GRE packet's call ID, sequence and
 *    acknowledgement numbers, and PPP protocol 0x00fd on the encrypted
 *    data, with the call IDs the OCRQ/OCRP exchange set up (the
 *    independent check);
 *  - Ctrl-C in the middle, and a failing step (a `ping` that fails), end
 *    with the right exit code and one-line reason, and clean up too;
 *  - without root it refuses with one line.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeCapture } from '../../src/decode/index.js';
import { layerJson } from '../../src/decode/render.js';
import type { DecodedPacket } from '../../src/decode/tree.js';
import { addonAvailable } from '../../src/io/native.js';
import { run } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';
import { type TsharkPacket, tsharkNumber, tsharkPackets } from '../helpers/tshark.js';
import { readableCopy, runAsNobody } from '../helpers/unprivileged.js';

const BIN = fileURLToPath(new URL('../../bin/pptp-ts.js', import.meta.url));
function requireDemoPrerequisites(): void {
  requireRoot('ip', 'tshark');
  assert.ok(addonAvailable(), 'the native addon is not built: npm install (or npm ci) builds it');
}

interface DemoResult {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `pptp-ts demo ARGS`; `onOutput` sees stdout as it grows (and may
 * signal the demo). Kills it after `timeoutMs` (then the safety net below
 * removes what it made).
 */
function runDemo(
  args: string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; onOutput?: (out: string, pid: number) => void } = {},
): Promise<DemoResult> {
  const child = spawn(process.execPath, [BIN, 'demo', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
  });
  const pid = child.pid!;
  started.push(pid);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    opts.onOutput?.(stdout, pid);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 150_000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ pid, code, signal, stdout, stderr });
    });
  });
}

/**
 * A PATH of one directory (made in `dir`) linking every command of the
 * current PATH except `names`: the demo sees a machine without them.
 */
function pathWithout(dir: string, ...names: string[]): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const d of (process.env.PATH ?? '').split(':')) {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      continue;
    }
    for (const e of entries) {
      if (names.includes(e) || existsSync(join(bin, e))) continue;
      symlinkSync(join(d, e), join(bin, e));
    }
  }
  assert.notEqual(
    spawnSync('sh', ['-c', 'command -v ping'], { env: { PATH: bin } }).status,
    0,
    'no ping left',
  );
  return bin;
}

/** Demo PIDs this file started: the safety net removes whatever they left, should a test fail. */
const started: number[] = [];

async function namespacesOf(pid: number): Promise<string[]> {
  const r = await run(['ip', 'netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`pptpdemo-${pid}-`));
}

after(async () => {
  for (const pid of started) {
    for (const ns of await namespacesOf(pid)) {
      const pids = await run(['ip', 'netns', 'pids', ns], { allowFail: true });
      for (const p of pids.stdout
        .split('\n')
        .map(Number)
        .filter((n) => n > 0)) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {}
      }
      await run(['ip', 'netns', 'del', ns], { allowFail: true });
    }
  }
});

/** The temp dir and daemon PIDs a `--verbose` run printed. */
function madeBy(out: string): { dir: string | undefined; pids: number[] } {
  const dir = new RegExp(`${tmpdir()}/pptp-ts-demo-[A-Za-z0-9]+`).exec(out)?.[0];
  const pids = [...out.matchAll(/\$ (?:dns-server|serve|connect): pid (\d+)/g)].map((m) => Number(m[1]));
  return { dir, pids };
}

/** A process that is gone, or whose PID now belongs to something that is not ours. */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const state = /^\d+ \(.*\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
    if (state === 'Z') return true; // exited, waiting for its parent to read the status
    return !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(BIN);
  } catch {
    return true;
  }
}

/** Processes whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(text)) out.push(Number(e));
    } catch {}
  }
  return out;
}

async function assertNothingLeft(r: DemoResult): Promise<void> {
  const { dir, pids } = madeBy(r.stdout);
  assert.deepEqual(await namespacesOf(r.pid), [], 'namespaces left behind');
  assert.ok(dir, 'the run printed its temp dir');
  assert.ok(pids.length > 0, "the run printed the daemons' PIDs");
  assert.equal(existsSync(dir), false, `${dir} left behind`);
  for (const pid of pids) assert.ok(gone(pid), `process ${pid} left behind`);
  assert.deepEqual(processesMentioning(dir), [], 'processes using the temp dir left behind');
}

/** The text of a section, from its heading to the next. */
function section(out: string, title: RegExp): string {
  const lines = out.split('\n');
  const i = lines.findIndex((l) => title.test(l));
  assert.ok(i >= 0, `no section ${title}`);
  const j = lines.findIndex((l, k) => k > i && l.startsWith('── '));
  return lines.slice(i + 1, j < 0 ? undefined : j).join('\n');
}

/** Asserts that the patterns match `text` in this order. */
function assertInOrder(text: string, patterns: RegExp[]): void {
  let from = 0;
  for (const re of patterns) {
    const m = re.exec(text.slice(from));
    assert.ok(m, `${re} not found after offset ${from} in:\n${text}`);
    from += m.index + m[0].length;
  }
}

describe('pptp-ts demo, end to end', () => {
  before(requireDemoPrerequisites);
  let r: DemoResult;
  const work = mkdtempSync(join(tmpdir(), 'demo-test-'));
  const pcap = join(work, 'outer.pcap');
  after(() => rmSync(work, { recursive: true, force: true }));

  before(async () => {
    // As on a fresh machine without iputils-ping: PATH holds every command but `ping`.
    r = await runDemo(['--verbose', '--pcap', pcap], {
      env: { ...process.env, PATH: pathWithout(work, 'ping') },
    });
  });

  it('exits 0 and says nothing on stderr', () => {
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.equal(r.stderr, '');
  });

  it('resolves www.example.test and pings 10.88.0.80 through the tunnel', () => {
    const s = section(r.stdout, /── 3\. Through the tunnel/);
    assert.match(s, /resolve +www\.example\.test +→ +A 10\.88\.0\.80 +\(NOERROR, authoritative/);
    assert.match(s, /ping +10\.88\.0\.80 +→ +3\/3 replies, rtt min\/avg\/max [\d.]+\/[\d.]+\/[\d.]+ ms/);
  });

  it('shows the DNS request layer by layer, decrypted', () => {
    const s = section(r.stdout, /── 5\. The DNS request, layer by layer/);
    assertInOrder(s, [
      /Frame \d+ .* Ethernet\n/,
      /IPv4 +203\.0\.113\.10 → 203\.0\.113\.1 .*proto GRE \(47\) +checksum 0x[0-9a-f]{4} \[good\]/,
      /GRE +\[K S( A)?\] +call ID \d+ +payload length \d+ +seq \d+/,
      /PPP +.*Compressed datagram \(0x00fd\)/,
      /MPPE +coherency count \d+ .*\(negotiated: stateless, 128-bit\)\n +decrypted \d+ bytes \(MPPE-128, \d+ key changes?\)/,
      /PPP +IPv4 \(0x0021\) +\(decrypted\)/,
      /IPv4 +10\.99\.0\.\d+ → 10\.88\.0\.53 .*proto UDP \(17\) .*\[good\]/,
      /UDP +\d+ → 53 .*\[good\]/,
      /DNS +query +id 0x[0-9a-f]{4}/,
      /question +www\.example\.test +A +IN/,
    ]);
  });

  it('shows the DNS response layer by layer, with the answer', () => {
    const s = section(r.stdout, /── 6\. The DNS response, layer by layer/);
    assertInOrder(s, [
      /IPv4 +203\.0\.113\.1 → 203\.0\.113\.10 .*proto GRE \(47\)/,
      /GRE +\[K S A\] +call ID \d+/,
      /MPPE .*\n +decrypted \d+ bytes \(MPPE-128/,
      /PPP +IPv4 \(0x0021\) +\(decrypted\)/,
      /IPv4 +10\.88\.0\.53 → 10\.99\.0\.\d+ .*proto UDP/,
      /UDP +53 → \d+/,
      /DNS +response +id 0x[0-9a-f]{4} +AA +RD +rcode NOERROR/,
      /question +www\.example\.test +A +IN/,
      /answer +www\.example\.test +A +IN +ttl 300 +10\.88\.0\.80/,
    ]);
    // The response answers the query: same DNS ID, same UDP ports reversed.
    const q = section(r.stdout, /── 5\. The DNS request/);
    const qid = /DNS +query +id (0x[0-9a-f]{4})/.exec(q)![1];
    const rid = /DNS +response +id (0x[0-9a-f]{4})/.exec(s)![1];
    assert.equal(rid, qid);
    const qport = /UDP +(\d+) → 53/.exec(q)![1];
    assert.match(s, new RegExp(`UDP +53 → ${qport} `));
  });

  it('summarises the handshake in order and the tunnel it set up', () => {
    const s = section(r.stdout, /── 4\. What the wire saw/);
    assertInOrder(s, [
      /client → server +TCP +\[SYN\]/,
      /client → server +PPTP +Start-Control-Connection-Request \(SCCRQ\)/,
      /server → client +PPTP +Start-Control-Connection-Reply \(SCCRP\)/,
      /client → server +PPTP +Outgoing-Call-Request \(OCRQ\) +call ID \d+/,
      /server → client +PPTP +Outgoing-Call-Reply \(OCRP\) +call ID \d+ +peer call ID \d+/,
      /LCP +Configure-Request/,
      /server → client +CHAP +Challenge +MS-CHAPv2/,
      /client → server +CHAP +Response +MS-CHAPv2 +name "demo"/,
      /server → client +CHAP +Success/,
      /CCP +Configure-Request +MPPE\/MPPC: .*\(stateless, 128-bit\)/,
      /CCP +Configure-Ack/,
      /IPCP +Configure-Ack/,
      /… \d+ MPPE-encrypted packets \(all decrypted: .*2 DNS.*6 ICMP/,
      /client → server +LCP +Terminate-Request/,
      /client → server +PPTP +Call-Clear-Request \(CCRQ\)/,
      /server → client +PPTP +Call-Disconnect-Notify \(CDN\)/,
      /client → server +PPTP +Stop-Control-Connection-Request \(StopCCRQ\)/,
      /server → client +PPTP +Stop-Control-Connection-Reply \(StopCCRP\)/,
    ]);
    assert.match(s, /auth +CHAP \(0xc223\) MS-CHAPv2 \(0x81\), user "demo": Success/);
    assert.match(s, /MPPE +stateless, 128-bit/);
    assert.match(s, /IPCP +client 10\.99\.0\.\d+, server 10\.99\.0\.1/);
    assert.match(s, /DNS +10\.88\.0\.53/);
  });

  it('--pcap saves the capture and the one-off password, and pptp-ts decode decrypts it again', async () => {
    assert.match(r.stdout, new RegExp(`pptp-ts decode --password-file ${pcap}\\.password ${pcap}`));
    const d = await run([process.execPath, BIN, 'decode', '--password-file', `${pcap}.password`, pcap]);
    assert.match(d.stdout, /DNS +query .*\n +question +www\.example\.test +A +IN/);
    assert.match(d.stdout, /answer +www\.example\.test +A +IN +ttl 300 +10\.88\.0\.80/);
    assert.doesNotMatch(d.stdout, /not decrypted/);
  });

  it('leaves nothing behind: namespaces, processes, temp dir', async () => {
    assert.match(r.stdout, /✓ stopped dns-server, serve; removed 3 namespaces/);
    assert.equal(madeBy(r.stdout).pids.length, 3, 'dns-server, serve and connect');
    await assertNothingLeft(r);
  });

  describe('tshark reads the demo’s capture of the outer link', () => {
    let ours: DecodedPacket[];
    let theirs: TsharkPacket[];
    before(() => {
      ours = [...decodeCapture(new Uint8Array(readFileSync(pcap)))];
      theirs = tsharkPackets(pcap);
    });

    it('the same PPTP control messages, in the same order, from SCCRQ to StopCCRP', () => {
      const mine = ours.flatMap((p) =>
        p.layers.filter((l) => l.protocol === 'PPTP').map((l) => layerJson(l).messageType as number),
      );
      const tshark = theirs.flatMap((t) => t.all('pptp.control_message_type').map(Number));
      assert.deepEqual(mine, tshark);
      // SCCRQ SCCRP OCRQ OCRP first; CCRQ CDN StopCCRQ StopCCRP last (RFC 2637 §2.1-2.3, 2.7-2.8, 2.12-2.13).
      assert.deepEqual(tshark.slice(0, 4), [1, 2, 7, 8]);
      assert.deepEqual(tshark.slice(-4), [12, 13, 3, 4]);
    });

    it('every GRE packet: same addresses, call ID, payload length, sequence and acknowledgement numbers', () => {
      let n = 0;
      for (const p of ours) {
        const gre = p.layers.find((l) => l.protocol === 'GRE');
        if (!gre) continue;
        n++;
        const g = layerJson(gre);
        const ip = layerJson(p.layers.find((l) => l.protocol === 'IPv4')!);
        const t = theirs[p.frameNumber - 1]!;
        const where = `frame ${p.frameNumber}`;
        assert.ok(t.protocols.includes('gre'), where);
        assert.equal(t.first('ip.src'), ip.source, where);
        assert.equal(t.first('ip.dst'), ip.destination, where);
        assert.equal(tsharkNumber(t.first('gre.key.call_id')), g.callId, where);
        assert.equal(tsharkNumber(t.first('gre.key.payload_length')), g.payloadLength, where);
        assert.equal(tsharkNumber(t.first('gre.sequence_number')), g.sequenceNumber, where);
        assert.equal(tsharkNumber(t.first('gre.ack_number')), g.acknowledgmentNumber, where);
      }
      assert.equal(n, theirs.filter((t) => t.protocols.includes('gre')).length);
      assert.ok(n >= 20, `${n} GRE packets`);
    });

    it('the GRE keys are the call IDs OCRQ and OCRP exchanged, as tshark reads them', () => {
      const ocrq = theirs.find((t) => t.all('pptp.control_message_type').includes('7'))!;
      const ocrp = theirs.find((t) => t.all('pptp.control_message_type').includes('8'))!;
      const clientCallId = tsharkNumber(ocrq.first('pptp.call_id'));
      const serverCallId = tsharkNumber(ocrp.first('pptp.call_id'));
      assert.equal(tsharkNumber(ocrp.first('pptp.peer_call_id')), clientCallId);
      const client = ocrq.first('ip.src');
      for (const t of theirs.filter((x) => x.protocols.includes('gre'))) {
        // RFC 2637 §4.1: the key's Call ID is the peer's, so each side sends the other's ID.
        const want = t.first('ip.src') === client ? serverCallId : clientCallId;
        assert.equal(tsharkNumber(t.first('gre.key.call_id')), want, `frame ${t.first('frame.number')}`);
      }
    });

    it('PPP protocol 0x00fd on the encrypted data, the DNS frames among them', () => {
      const compressed: number[] = [];
      for (const p of ours) {
        const ppp = p.layers.find((l) => l.protocol === 'PPP');
        if (!ppp) continue;
        const t = theirs[p.frameNumber - 1]!;
        const proto = tsharkNumber(t.first('ppp.protocol'));
        assert.equal(proto, layerJson(ppp).protocol, `frame ${p.frameNumber}`);
        if (proto === 0x00fd) compressed.push(p.frameNumber);
      }
      assert.ok(compressed.length >= 8, `2 DNS + 6 ICMP packets, got ${compressed.length}`);
      const q = Number(/5\. The DNS request, layer by layer \(frame (\d+)\)/.exec(r.stdout)![1]);
      const a = Number(/6\. The DNS response, layer by layer \(frame (\d+)\)/.exec(r.stdout)![1]);
      assert.ok(compressed.includes(q) && compressed.includes(a), `frames ${q} and ${a} in ${compressed}`);
    });
  });
});

describe('pptp-ts demo, interrupted and failing', () => {
  before(requireDemoPrerequisites);
  it('Ctrl-C while the hosts start: exit 130, everything removed', async () => {
    let sent = false;
    const r = await runDemo(['--verbose'], {
      timeoutMs: 60_000,
      onOutput: (out, pid) => {
        if (!sent && /✓ pptp-ts serve on/.test(out)) {
          sent = true;
          process.kill(pid, 'SIGINT');
        }
      },
    });
    assert.ok(sent, r.stdout);
    assert.equal(r.code, 130, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /✗ interrupted \(SIGINT\): cleaning up/);
    assert.match(r.stdout, /✓ stopped .*removed 3 namespaces/);
    await assertNothingLeft(r);
  });

  it('a step that fails: one-line reason, the daemons’ last words, exit 1, everything removed', async () => {
    // The www host stops answering echoes once the hosts are up, so the demo's own ping gets nothing back.
    let muted = false;
    const r = await runDemo(['--verbose'], {
      timeoutMs: 90_000,
      onOutput: (out, pid) => {
        if (!muted && /✓ pptp-ts serve on/.test(out)) {
          muted = true;
          const ns = `pptpdemo-${pid}-dns`;
          const m = spawnSync(
            'ip',
            ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.icmp_echo_ignore_all=1'],
            {
              timeout: 10_000,
            },
          );
          assert.equal(m.status, 0, `sysctl in ${ns}`);
        }
      },
    });
    assert.ok(muted, r.stdout);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.equal(r.stderr, 'pptp-ts demo: ping 10.88.0.80 through the tunnel got no reply\n');
    assert.match(
      r.stdout,
      /✗ ping 10\.88\.0\.80 through the tunnel got no reply\n +3 packets transmitted, 0 received, 100% packet loss/,
    );
    assert.match(r.stdout, /\n +connect: \S/, "the client's last words are shown");
    assert.match(r.stdout, /✓ stopped dns-server, serve, connect; removed 3 namespaces/);
    await assertNothingLeft(r);
  });

  it('refuses without root, in one line', () => {
    // Run as nobody from a readable copy: the checkout itself may sit in a 0700 home (/root).
    const copy = readableCopy();
    try {
      const r = runAsNobody(copy, ['demo']);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^pptp-ts demo: not root: [^\n]*\n$/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
