/**
 * `pptp-ts` command line: connect | serve | demo | decode | bench.
 */
const USAGE = `usage: pptp-ts <command> [options]

commands:
  decode FILE [--json]        print every PPTP-related packet of a pcap/pcapng capture
  connect SERVER --user NAME  dial a PPTP server (client)
  serve --config FILE         run a PPTP server
  demo                        build a namespace world and show a DNS query through the tunnel
`;

async function main(argv: string[]): Promise<number> {
  const [cmd] = argv;
  switch (cmd) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return cmd ? 0 : 2;
    case 'decode':
      return (await import('./decode.js')).runDecode(argv.slice(1));
    case 'connect':
      return (await import('./connect.js')).runConnect(argv.slice(1));
    case 'serve':
      return (await import('./serve.js')).runServe(argv.slice(1));
    case 'demo':
      return (await import('./demo.js')).runDemo(argv.slice(1));
    default:
      process.stderr.write(`pptp-ts: unknown command '${cmd}'\n${USAGE}`);
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
