/**
 * `pptp-ts` command line: connect | serve | decode | demo | sessions | kick | reload | status.
 */
import { existsSync, readFileSync } from 'node:fs';

const USAGE = `usage: pptp-ts <command> [options]

commands:
  connect SERVER --user NAME [options]   dial a PPTP server (client)
  serve --config FILE [--check]          run a PPTP server
  decode FILE|-|--interface IF [--json] [--password-file F]
                                         print every PPTP packet of a pcap/pcapng capture (a file,
                                         standard input, or live), layer by layer
  demo [--keep] [--pcap FILE]            build a namespace world and show a DNS query through the tunnel
  sessions [--json]                      list a running server's sessions (management socket)
  kick ID|USER|ADDRESS [--reason TEXT]   end sessions of a running server
  reload                                 make a running server re-read its secrets and config
  status [--socket PATH]                 state of a running server or client (--control)
  install-units [--prefix DIR]           write the systemd units (server, client@PROFILE)

'pptp-ts COMMAND --help' lists a command's options; --version prints the version.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/**
 * The connect command: the one-file bundle of it that `npm run build` writes
 * (scripts/bundle.js) when there is one, else the module itself (the sources
 * under tsx). A client tunnel is long-lived and one file instead of about 80
 * modules makes its RSS about 8 MiB smaller (docs/packaging.md).
 */
async function importConnect(): Promise<typeof import('./connect.js')> {
  const bundle = new URL('./connect.bundle.js', import.meta.url);
  if (existsSync(bundle)) return (await import(bundle.href)) as typeof import('./connect.js');
  return import('./connect.js');
}

async function main(argv: string[]): Promise<number> {
  const [cmd] = argv;
  switch (cmd) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return cmd ? 0 : 2;
    case '--version':
    case '-V':
      process.stdout.write(`pptp-ts ${version()}\n`);
      return 0;
    case 'decode':
      return (await import('./decode.js')).runDecode(argv.slice(1));
    case 'connect':
      return (await importConnect()).runConnect(argv.slice(1));
    case 'serve':
      return (await import('./serve.js')).runServe(argv.slice(1));
    case 'demo':
      return (await import('./demo.js')).runDemo(argv.slice(1));
    case 'sessions':
    case 'kick':
    case 'reload':
    case 'status':
      return (await import('./sessions.js')).runManage(cmd, argv.slice(1));
    case 'install-units':
      return (await import('./install-units.js')).runInstallUnits(argv.slice(1));
    default:
      process.stderr.write(`pptp-ts: unknown command '${cmd}'\n${USAGE}`);
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
