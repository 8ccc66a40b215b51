// Typed errors: match on `code` (stable) or on the class.
import { AbortError, AuthError, ConnectError, connect, decode, PermissionError, PptpError } from 'pptp-ts';

const server = process.argv[2] ?? '192.0.2.1';

// 1. A wrong password: `ready` rejects with an AuthError.
try {
  await connect({ server, user: 'alice', password: 'not the password' }).ready;
} catch (err) {
  if (err instanceof AuthError) console.log(`auth failed: ${err.code}`);
  else if (err instanceof PermissionError) console.log(`run as root: ${err.code}`);
  else if (err instanceof ConnectError) console.log(`unreachable: ${err.code}`);
  else throw err;
}

// 2. Aborted on request: an AbortError (code ABORT_ERR, as Node's own).
const controller = new AbortController();
const attempt = connect({ server, user: 'alice', password: 'correct horse', signal: controller.signal });
controller.abort();
await attempt.ready.catch((err: unknown) => {
  if (err instanceof AbortError) console.log(`aborted: ${err.code}`);
});

// 3. Not a capture: a CaptureError; bad options: a ConfigError. Both are PptpErrors.
for (const tryIt of [() => decode(new Uint8Array(64)), () => connect({ server, user: '', password: '' })]) {
  try {
    tryIt();
  } catch (err) {
    if (!(err instanceof PptpError)) throw err;
    switch (err.code) {
      case 'ERR_PPTP_CAPTURE':
        console.log(`not a capture: ${err.code}`);
        break;
      case 'ERR_PPTP_CONFIG':
        console.log(`bad options: ${err.code} (${err.message})`);
        break;
      default:
        console.log(`other: ${err.code}`);
    }
  }
}
