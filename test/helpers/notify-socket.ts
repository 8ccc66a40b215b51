/**
 * A service manager's end of the sd_notify protocol for tests: a real
 * AF_UNIX SOCK_DGRAM socket bound by python3 (an implementation independent
 * of the one under test), each datagram reported as one JSON string line.
 * A filesystem path is reachable from every network namespace; `@name` is
 * an abstract socket of the receiver's namespace.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { after } from 'node:test';

const RECEIVER = `
import json, socket, sys
p = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\\0' + p[1:] if p.startswith('@') else p)
print('bound', flush=True)
while True:
    print(json.dumps(s.recv(65536).decode()), flush=True)
`;

export class NotifyReceiver {
  /** Every datagram received so far, in order. */
  readonly datagrams: string[] = [];
  private buffered = '';
  private stderr = '';

  private constructor(
    readonly path: string,
    private readonly child: ChildProcess,
  ) {}

  /** Binds `path` and resolves once the socket exists. Fails with the apt line when python3 is missing. */
  static async start(path: string): Promise<NotifyReceiver> {
    const child = spawn('python3', ['-c', RECEIVER, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    const r = new NotifyReceiver(path, child);
    after(() => r.close());
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`notify receiver did not bind ${path}: ${r.stderr}`)),
        10_000,
      );
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(
          new Error(`python3 is needed for the notify receiver (apt-get install -y python3): ${e.message}`),
        );
      });
      child.stderr!.on('data', (d: Buffer) => {
        r.stderr += d.toString();
      });
      child.stdout!.on('data', (d: Buffer) => {
        r.buffered += d.toString();
        for (let i = r.buffered.indexOf('\n'); i >= 0; i = r.buffered.indexOf('\n')) {
          const line = r.buffered.slice(0, i);
          r.buffered = r.buffered.slice(i + 1);
          if (line === 'bound') {
            clearTimeout(timer);
            resolve();
          } else r.datagrams.push(JSON.parse(line) as string);
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`notify receiver exited (${code}): ${r.stderr}`));
      });
    });
    return r;
  }

  /** Every `KEY=VALUE` line received, in order, datagrams flattened. */
  lines(): string[] {
    return this.datagrams.flatMap((d) => d.split('\n'));
  }

  /** Resolves once a line matches `re`; rejects after `timeoutMs`. */
  async waitFor(re: RegExp, timeoutMs = 10_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines().find((l) => re.test(l));
      if (hit !== undefined) return hit;
      if (Date.now() > end) {
        throw new Error(
          `no notification matching ${re} within ${timeoutMs} ms; got ${JSON.stringify(this.lines())}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): void {
    if (this.child.exitCode === null && this.child.pid !== undefined) this.child.kill('SIGKILL');
  }
}
