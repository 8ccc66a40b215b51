/**
 * `npm test` (scripts/test.js) checks for every system tool before it runs
 * anything, and stops with one line naming the apt-get command.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { installLine, SYSTEM_TOOLS } from './helpers/tools.js';

const TEST_JS = fileURLToPath(new URL('../scripts/test.js', import.meta.url));

describe('scripts/test.js', () => {
  const bin = mkdtempSync(join(tmpdir(), 'pptp-ts-notools-'));
  after(() => rmSync(bin, { recursive: true, force: true }));
  // A PATH with node and sh only: every system tool is missing.
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync('/bin/sh', join(bin, 'sh'));

  it('stops before running anything, with one line naming the apt-get command', () => {
    const r = spawnSync(process.execPath, [TEST_JS, 'unit'], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, PATH: bin },
    });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '', 'nothing ran');
    const tools = Object.keys(SYSTEM_TOOLS);
    assert.equal(r.stderr, `npm test needs ${tools.join(', ')}: ${installLine(tools)}\n`);
    assert.match(r.stderr, /apt-get install -y .*\btshark\b.*\biperf3\b.*\bsocat\b/);
  });

  it('with every tool present it goes on (here: to one selected test file)', () => {
    const r = spawnSync(process.execPath, [TEST_JS, 'test/layering.test.ts'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /npm test needs/);
  });
});
