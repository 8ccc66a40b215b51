/**
 * bench/args.ts: the one command-line reader of the bench commands. Its
 * rules are what every bench command's usage text promises.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchMain, finiteNumber, parseBenchArgs, wholeNumber } from '../../bench/args.js';

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

describe('benchMain', () => {
  class Refused extends Error {}
  class SetupFailed extends Error {}
  /** Runs benchMain with stdout and stderr captured. */
  async function run(argv: string[], outcome: () => Promise<number>) {
    const out: string[] = [];
    const err: string[] = [];
    const w = [process.stdout.write, process.stderr.write];
    process.stdout.write = ((s: string) => out.push(s) > 0) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => err.push(s) > 0) as typeof process.stderr.write;
    try {
      const status = await benchMain(argv, {
        name: 'bench:t',
        usage: 'usage: t [--n N]\n',
        parse: (a) => {
          if (a.includes('--help')) return 'help';
          if (a.includes('--bad')) throw new Error('--bad: no such flag');
          return { n: a.length };
        },
        run: outcome,
        exits: [
          { error: Refused, status: 3 },
          { error: SetupFailed, status: 2, prefix: 'bench:t: ' },
        ],
      });
      return { status, out: out.join(''), err: err.join('') };
    } finally {
      [process.stdout.write, process.stderr.write] = w as [
        typeof process.stdout.write,
        typeof process.stderr.write,
      ];
    }
  }

  it('a bad command line: one line naming it, the usage, status 2, and nothing run', async () => {
    let ran = false;
    const r = await run(['--bad'], async () => {
      ran = true;
      return 0;
    });
    assert.deepEqual(r, { status: 2, out: '', err: 'bench:t: --bad: no such flag\nusage: t [--n N]\n' });
    assert.equal(ran, false);
  });

  it('--help prints the usage on stdout with status 0', async () => {
    assert.deepEqual(await run(['--help'], async () => 9), { status: 0, out: 'usage: t [--n N]\n', err: '' });
  });

  it("returns the run's status", async () => {
    assert.equal((await run([], async () => 1)).status, 1);
  });

  it('ends on the listed errors with their message, prefix and status; rethrows any other', async () => {
    assert.deepEqual(
      await run([], async () => {
        throw new Refused('the machine is busy');
      }),
      { status: 3, out: '', err: 'the machine is busy\n' },
    );
    assert.deepEqual(
      await run([], async () => {
        throw new SetupFailed('needs root');
      }),
      { status: 2, out: '', err: 'bench:t: needs root\n' },
    );
    await assert.rejects(
      run([], async () => {
        throw new TypeError('a bug');
      }),
      TypeError,
    );
  });
});
