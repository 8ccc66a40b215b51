/** The `pptp-ts` entry point: dispatch, usage, version. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const BIN = new URL('../../bin/pptp-ts.js', import.meta.url).pathname;
const run = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });

describe('pptp-ts', () => {
  it('--version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const r = run('--version');
    assert.equal(r.status, 0);
    assert.equal(r.stdout, `pptp-ts ${pkg.version}\n`);
  });
  it('no command: usage on stdout, exit 2; --help: exit 0', () => {
    const r = run();
    assert.equal(r.status, 2);
    assert.match(r.stdout, /^usage: pptp-ts <command>/);
    for (const c of ['connect', 'serve', 'decode', 'demo']) assert.match(r.stdout, new RegExp(`\\n  ${c} `));
    assert.equal(run('--help').status, 0);
  });
  it('an unknown command is named, exit 2', () => {
    const r = run('dial');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command 'dial'/);
  });
  it('every command answers --help with exit 0', () => {
    for (const c of ['connect', 'serve', 'decode', 'demo']) {
      const r = run(c, '--help');
      assert.equal(r.status, 0, `${c} --help: ${r.stderr}`);
      assert.match(r.stdout, /usage/i, c);
    }
  });
});
