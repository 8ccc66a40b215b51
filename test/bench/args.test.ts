/**
 * bench/args.ts: the one command-line reader of the bench commands. Its
 * rules are what every bench command's usage text promises.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { finiteNumber, parseBenchArgs, wholeNumber } from '../../bench/args.js';

const SPEC = { help: 'boolean', rounds: 'string', 'allow-busy': 'boolean', nice: 'string' } as const;

describe('bench argument reader', () => {
  it('returns flags in command-line order, with -h as --help and --flag=value', () => {
    const r = parseBenchArgs(['--rounds', '3', '--allow-busy', '-h', '--rounds=4'], SPEC);
    assert.deepEqual(r.flags, [
      { name: '--rounds', value: '3' },
      { name: '--allow-busy', value: undefined },
      { name: '--help', value: undefined },
      { name: '--rounds', value: '4' },
    ]);
    assert.deepEqual(r.positionals, []);
  });

  it('refuses unknown flags, missing values, flag-like values and values on plain flags', () => {
    assert.throws(() => parseBenchArgs(['--fast'], SPEC), /^Error: unknown option --fast$/);
    assert.throws(() => parseBenchArgs(['-x'], SPEC), /unknown option -x/);
    assert.throws(() => parseBenchArgs(['--rounds'], SPEC), /--rounds needs a value/);
    assert.throws(() => parseBenchArgs(['--rounds', '--allow-busy'], SPEC), /--rounds needs a value/);
    assert.throws(() => parseBenchArgs(['--nice', '--cpu-prof'], SPEC), /--nice needs a value/);
    assert.throws(() => parseBenchArgs(['--allow-busy=yes'], SPEC), /--allow-busy takes no value/);
  });

  it('takes a one-dash value; a flag-like one only where the command allows it, or inline', () => {
    assert.deepEqual(parseBenchArgs(['--nice', '-5'], SPEC).flags, [{ name: '--nice', value: '-5' }]);
    assert.deepEqual(parseBenchArgs(['--nice', '--cpu-prof'], SPEC, { dashValues: ['nice'] }).flags, [
      { name: '--nice', value: '--cpu-prof' },
    ]);
    assert.deepEqual(parseBenchArgs(['--nice=--x'], SPEC).flags, [{ name: '--nice', value: '--x' }]);
  });

  it('takes words that are not flags only where the command does', () => {
    assert.throws(() => parseBenchArgs(['mppe'], SPEC), /unknown option mppe/);
    const r = parseBenchArgs(['mppe', '--rounds', '2', 'gre'], SPEC, { positionals: true });
    assert.deepEqual(r.positionals, ['mppe', 'gre']);
    assert.deepEqual(r.flags, [{ name: '--rounds', value: '2' }]);
  });

  it('reads whole and finite numbers strictly', () => {
    const f = (value: string) => ({ name: '--rounds', value });
    assert.equal(wholeNumber(f('12')), 12);
    assert.equal(wholeNumber(f('0')), 0);
    for (const bad of ['2.5', '-1', '1e3', '', 'x'])
      assert.throws(() => wholeNumber(f(bad)), /not a whole number/);
    assert.throws(() => wholeNumber(f('0'), 1), /not a whole number ≥ 1: 0/);
    assert.equal(finiteNumber(f('-2.5')), -2.5);
    for (const bad of ['', 'x', 'Infinity']) assert.throws(() => finiteNumber(f(bad)), /not a number/);
  });
});
