/**
 * The interop lab by hand (docs/interop.md). Run as root from the repository:
 *
 *   node --import tsx test/interop/cli.ts build            build or reuse the image; print its manifest
 *   node --import tsx test/interop/cli.ts shell            one VM, its root console on this terminal
 *   node --import tsx test/interop/cli.ts up [N]           a lab with N VMs (default 2) until Ctrl-C
 *   node --import tsx test/interop/cli.ts exec SOCK CMD    run CMD in the VM behind agent socket SOCK
 *   node --import tsx test/interop/cli.ts console SOCK     attach to a VM's console socket (Ctrl-] leaves)
 *
 * `up` and `shell` remove everything they made when they end (Ctrl-C, or
 * leaving the console), like the tests do.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { agentExec, ensureImage, Lab, type Vm } from './lab.js';

const USAGE = `usage: node --import tsx test/interop/cli.ts build | shell | up [N] | exec SOCKET CMD... | console SOCKET\n`;

/** Attaches the terminal to a console socket until Ctrl-] (0x1d) or the socket closes. */
function attachConsole(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(path);
    const stdin = process.stdin;
    const done = () => {
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onInput);
      sock.destroy();
      process.stdout.write('\r\n[detached]\r\n');
      resolve();
    };
    const onInput = (d: Buffer) => {
      if (d.includes(0x1d)) done();
      else sock.write(d);
    };
    sock.once('error', reject);
    sock.once('connect', () => {
      process.stdout.write('[console attached: Ctrl-] leaves; press Enter for a prompt]\r\n');
      if (stdin.isTTY) stdin.setRawMode(true);
      stdin.resume();
      stdin.on('data', onInput);
      sock.pipe(process.stdout, { end: false });
      sock.write('\n');
    });
    sock.once('close', done);
  });
}

function describeVm(vm: Vm): string {
  return [
    `  ${vm.name.padEnd(8)} ${vm.address}  booted in ${(vm.bootMs / 1000).toFixed(1)} s`,
    `    exec:    node --import tsx test/interop/cli.ts exec ${vm.agentSocket} 'uname -a'`,
    `    console: node --import tsx test/interop/cli.ts console ${vm.consoleSocket}`,
    `    log:     ${vm.consoleLog}`,
  ].join('\n');
}

async function up(count: number, interactive: boolean): Promise<number> {
  const lab = await Lab.create();
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('tearing the lab down...\n');
    await lab.close();
  };
  try {
    const names = Array.from({ length: count }, (_, i) => `vm${i + 1}`);
    const vms = await Promise.all(names.map((name) => lab.bootVm({ name })));
    process.stdout.write(
      `lab namespace ${lab.ns}: bridge br0 192.0.2.1/24, work dir ${lab.workDir}\n` +
        `  a shell in the namespace: ip netns exec ${lab.ns} bash\n${vms.map(describeVm).join('\n')}\n`,
    );
    if (interactive) {
      await attachConsole(vms[0]!.consoleSocket);
    } else {
      for (const vm of vms) vm.releaseAgent();
      process.stdout.write('Ctrl-C tears it all down.\n');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
    }
    return 0;
  } finally {
    await stop();
  }
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (process.getuid?.() !== 0 && cmd !== undefined && cmd !== 'help') {
    process.stderr.write('the interop lab needs root (namespaces, TAP devices, debootstrap)\n');
    return 2;
  }
  switch (cmd) {
    case 'build': {
      const image = await ensureImage();
      process.stdout.write(`${image.dir}\n${readFileSync(image.manifest, 'utf8')}`);
      return 0;
    }
    case 'shell':
      return up(1, true);
    case 'up': {
      const n = rest[0] === undefined ? 2 : Number(rest[0]);
      if (!Number.isInteger(n) || n < 1 || n > 8) {
        process.stderr.write('up: N must be 1-8\n');
        return 2;
      }
      return up(n, false);
    }
    case 'exec': {
      const [socket, ...words] = rest;
      if (!socket || words.length === 0) break;
      const r = await agentExec(socket, words.join(' '), { timeoutMs: 600_000 });
      process.stdout.write(r.stdoutBytes);
      process.stderr.write(r.stderr);
      if (r.code === null) process.stderr.write(`[${r.status}]\n`);
      return r.code ?? 1;
    }
    case 'console': {
      if (!rest[0]) break;
      await attachConsole(rest[0]);
      return 0;
    }
  }
  process.stderr.write(USAGE);
  return 2;
}

process.exitCode = await main(process.argv.slice(2));
