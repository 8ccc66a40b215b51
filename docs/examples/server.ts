// A PPTP server that authenticates users from the program's own store.
import { type AuthRequest, type AuthResult, createServer } from 'pptp-ts';

// Your user store: here a Map; a database or an LDAP directory works the same way.
const users = new Map<string, { password: string; address?: string; maxSeconds?: number }>([
  ['alice', { password: 'correct horse' }],
  ['bob', { password: 'hunter2', address: '10.77.0.77', maxSeconds: 3600 }],
]);

async function authenticate(req: AuthRequest): Promise<AuthResult> {
  const user = users.get(req.user);
  if (!user) return { accept: false, reason: 'unknown-user' };
  // PAP sends the password itself: you may check it here (req.password) and
  // accept without returning it. CHAP and MS-CHAP need the password (or its
  // NT hash) back: the server checks the response and derives MPPE keys from it.
  return {
    accept: true,
    password: user.password,
    ...(user.address ? { address: user.address } : {}),
    ...(user.maxSeconds ? { sessionTimeout: user.maxSeconds } : {}),
  };
}

const server = createServer({
  listen: process.env.PPTP_LISTEN ?? '0.0.0.0',
  'local-ip': '10.77.0.1',
  pool: '10.77.0.10-10.77.0.100',
  'ms-dns': ['10.77.0.1'],
  authenticator: authenticate,
  log: { level: 'warn' },
});

server.on('session-up', ({ session, auth, mppe }) => {
  console.log(`session-up ${JSON.stringify({ ...session, auth, mppe })}`);
});
server.on('session-down', ({ session, reason, wasUp, stats }) => {
  console.log(`session-down ${JSON.stringify({ id: session.id, user: session.user, reason, wasUp, stats })}`);
});

const { address, port } = await server.listen();
console.log(`listening on ${address}:${port}`);

// SIGUSR1: disconnect everyone (the clients see the reason); SIGINT/SIGTERM: shut down.
process.on('SIGUSR1', () => {
  for (const s of server.sessions()) server.kick(s, 'maintenance');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    await server.close();
    console.log('stopped');
  });
}
