/**
 * The management socket (docs/operations.md "Management"): a Unix stream
 * socket only root can reach (the socket 0600, its directory 0700), one
 * JSON request per line, one JSON response per line.
 *
 * Bounded: a request line longer than {@link CONTROL_MAX_REQUEST_BYTES}
 * gets an error and the connection is closed; at most
 * {@link CONTROL_MAX_CLIENTS} connections at once (more are closed at
 * accept); a connection idle for {@link CONTROL_IDLE_MS} is closed; one
 * request at a time per connection.
 */
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from '../log/logger.js';

export const CONTROL_MAX_REQUEST_BYTES = 4096;
export const CONTROL_MAX_CLIENTS = 16;
export const CONTROL_IDLE_MS = 10_000;
/** Responses are bounded too, for the reading side (a `sessions` list of 10 000 sessions fits). */
export const CONTROL_MAX_RESPONSE_BYTES = 16 << 20;

export type ControlRequest = Readonly<Record<string, unknown>> & { readonly cmd: string };
export type ControlHandler = (req: ControlRequest) => unknown;

/** Someone already listens on the path (another instance). */
export class ControlSocketBusyError extends Error {
  override readonly name = 'ControlSocketBusyError';
}

export interface ControlSocket {
  readonly path: string;
  close(): Promise<void>;
}

/** Is someone listening at `path`? */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    const t = setTimeout(() => done(true), 1000);
    const done = (v: boolean) => {
      clearTimeout(t);
      s.destroy();
      resolve(v);
    };
    s.once('connect', () => done(true));
    s.on('error', () => done(false));
  });
}

/**
 * Listens on `path`. A stale socket file (nobody answers) is replaced; a
 * live one is an error (another instance runs). Handlers may be async;
 * an exception becomes `{"ok":false,"error":...}`.
 */
export async function listenControlSocket(
  path: string,
  handler: ControlHandler,
  log: Logger,
): Promise<ControlSocket> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let st: ReturnType<typeof lstatSync> | undefined;
  try {
    st = lstatSync(path);
  } catch {
    st = undefined;
  }
  if (st) {
    if (!st.isSocket()) throw new Error(`${path} exists and is not a socket`);
    if (await answers(path)) throw new ControlSocketBusyError(`${path}: another instance is listening there`);
    unlinkSync(path);
  }
  const clients = new Set<Socket>();
  /** Every open connection, refused ones included (close() ends them all). */
  const open = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sock.on('error', () => {});
    open.add(sock);
    sock.on('close', () => open.delete(sock));
    if (clients.size >= CONTROL_MAX_CLIENTS) {
      sock.end(`${JSON.stringify({ ok: false, error: 'too many management connections' })}\n`);
      return;
    }
    clients.add(sock);
    sock.setTimeout(CONTROL_IDLE_MS, () => sock.destroy());
    sock.on('close', () => clients.delete(sock));
    let buf = '';
    let busy = false;
    const reply = (v: unknown) => {
      if (!sock.destroyed) sock.write(`${JSON.stringify(v)}\n`);
    };
    const next = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          let req: unknown;
          try {
            req = JSON.parse(line);
          } catch {
            reply({ ok: false, error: 'not JSON' });
            continue;
          }
          if (typeof req !== 'object' || req === null || typeof (req as { cmd?: unknown }).cmd !== 'string') {
            reply({ ok: false, error: 'expected {"cmd": "..."}' });
            continue;
          }
          try {
            reply(await handler(req as ControlRequest));
          } catch (err) {
            reply({ ok: false, error: (err as Error).message });
          }
        }
      } finally {
        busy = false;
      }
    };
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const pending = buf.indexOf('\n') < 0 ? buf.length : 0;
      if (buf.length > CONTROL_MAX_REQUEST_BYTES * 4 || pending > CONTROL_MAX_REQUEST_BYTES) {
        reply({ ok: false, error: `request longer than ${CONTROL_MAX_REQUEST_BYTES} bytes` });
        sock.end();
        sock.pause();
        buf = '';
        return;
      }
      void next();
    });
  });
  server.maxConnections = CONTROL_MAX_CLIENTS * 2;
  // Created 0600 (umask), so there is no moment when others could connect.
  const mask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(mask);
  }
  chmodSync(path, 0o600);
  server.on('error', (err) => log.log('warn', 'management socket error', { error: err.message }));
  log.log('debug', 'management socket listening', { path });
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of open) c.destroy();
        server.close(() => resolve());
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      }),
  };
}

/** Sends one request and returns the parsed response (bounded in time and size). */
export function controlRequest(path: string, req: ControlRequest, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    let buf = '';
    const t = setTimeout(
      () => fail(new Error(`no answer on ${path} within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    const fail = (err: Error) => {
      clearTimeout(t);
      s.destroy();
      reject(err);
    };
    s.setEncoding('utf8');
    s.once('connect', () => s.write(`${JSON.stringify(req)}\n`));
    s.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > CONTROL_MAX_RESPONSE_BYTES) return fail(new Error('response too long'));
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(t);
      s.end();
      try {
        resolve(JSON.parse(buf.slice(0, nl)));
      } catch {
        reject(new Error('the answer is not JSON'));
      }
    });
    s.on('error', (err) => fail(new Error(`${path}: ${err.message}`)));
    s.once('close', () => fail(new Error(`${path}: closed without an answer`)));
  });
}
