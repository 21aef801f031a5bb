/**
 * `sweep.random`: seeded draws (the same trials every time, one stream per path), each
 * distribution's range and spread, grid × random, the trial's values located at their
 * distribution, and every mistake located with its message.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/load.js';
import { expandTrials } from '../../core/config/sweep.js';
import { drawRandom, type Distribution } from '../../core/config/sweep-random.js';
import { validateTrials } from '../../core/config/validate.js';
import { UserError } from '../../core/errors.js';
import { fakeRegistry } from './fakes.js';

const F = 'test/fixtures/config/sweep-random.yaml';
const BAD = 'test/fixtures/config/sweep-random-bad.yaml';
const load = (...sets: string[]) => loadConfig(F, { env: {}, sets });
const overrides = (...sets: string[]) => expandTrials(load(...sets)).map((t) => t.overrides);

/** `n` draws of one distribution. */
const draws = (dist: Distribution, n = 4000, seed = 1) => drawRandom({ trials: n, seed, dims: [{ key: 'x', path: ['x'], dist }] }).map((r) => r[0] as number);

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as UserError).message;
  }
  throw new Error('expected a config error');
}

describe('sweep.random: draws', () => {
  it('the same trials every time; grid × random with the same draws for every grid value (draws fastest)', () => {
    const a = overrides();
    expect(overrides()).toEqual(a);
    expect(a).toEqual([
      { 'model.pooling': 'cls', 'splitter.test': 0.1857, 'training.learning_rate': 0.00003553, 'evaluate.k': [1, 10], 'training.epochs': 4 },
      { 'model.pooling': 'cls', 'splitter.test': 0.2564, 'training.learning_rate': 0.00003167, 'evaluate.k': [1, 10], 'training.epochs': 2 },
      { 'model.pooling': 'cls', 'splitter.test': 0.1678, 'training.learning_rate': 0.00001127, 'evaluate.k': [1], 'training.epochs': 1 },
      { 'model.pooling': 'mean', 'splitter.test': 0.1857, 'training.learning_rate': 0.00003553, 'evaluate.k': [1, 10], 'training.epochs': 4 },
      { 'model.pooling': 'mean', 'splitter.test': 0.2564, 'training.learning_rate': 0.00003167, 'evaluate.k': [1, 10], 'training.epochs': 2 },
      { 'model.pooling': 'mean', 'splitter.test': 0.1678, 'training.learning_rate': 0.00001127, 'evaluate.k': [1], 'training.epochs': 1 },
    ]);
  });

  it('another seed draws other values; the seed defaults to the experiment seed; a path added leaves the others as they were', () => {
    const other = overrides('sweep.random.seed=12');
    expect(other.map((o) => o['splitter.test'])).not.toEqual(overrides().map((o) => o['splitter.test']));
    expect(overrides('sweep.random.seed=null')).toEqual(overrides('sweep.random.seed=3'));
    expect(overrides('sweep.random.seed=null', 'seed=4')).toEqual(overrides('sweep.random.seed=4'));
    const more = overrides('sweep.random.space["model.normalize"]={choice: [true, false]}');
    expect(more.map(({ 'model.normalize': n, ...rest }) => (expect(typeof n).toBe('boolean'), rest))).toEqual(overrides());
  });

  it("a trial's values are located at their distribution; the trial has no sweep", () => {
    const t = expandTrials(load())[4]!;
    expect(t.loaded.data).toEqual({
      name: 'sweep-random',
      seed: 3,
      dataset: { type: 'jsonl', queries: 'q.jsonl' },
      model: { path: './m', pooling: 'mean' },
      splitter: { type: 'ratio', test: 0.2564 },
      training: { learning_rate: 0.00003167, epochs: 2 },
      evaluate: { k: [1, 10] },
    });
    const file = resolve(F);
    expect(t.loaded.locate(['training', 'learning_rate'])).toEqual({ file, line: 14, col: 7 });
    expect(t.loaded.locate(['evaluate', 'k', 1])).toEqual({ file, line: 15, col: 7 });
    expect(t.loaded.locate(['model', 'pooling'])).toEqual({ file, line: 8, col: 26 });
  });

  it('uniform: within [lo, hi], 4 significant digits, spread evenly', () => {
    const xs = draws({ kind: 'uniform', lo: -1, hi: 3 });
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...xs)).toBeLessThanOrEqual(3);
    expect(xs.every((x) => Number(x.toPrecision(4)) === x)).toBe(true);
    for (let q = 0; q < 4; q++) expect(xs.filter((x) => x >= q - 1 && x < q).length / xs.length).toBeGreaterThan(0.22); // each quarter ≈ 0.25
  });

  it('loguniform: within [lo, hi], as many draws in each decade; uniform on the same range is not', () => {
    const xs = draws({ kind: 'loguniform', lo: 1e-6, hi: 1e-3 });
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(1e-6);
    expect(Math.max(...xs)).toBeLessThanOrEqual(1e-3);
    expect(xs.every((x) => Number(x.toPrecision(4)) === x)).toBe(true);
    for (const [lo, hi] of [[1e-6, 1e-5], [1e-5, 1e-4], [1e-4, 1e-3]] as const) {
      const share = xs.filter((x) => x >= lo && x < hi).length / xs.length;
      expect(share).toBeGreaterThan(0.3); // each ≈ 1/3
      expect(share).toBeLessThan(0.37);
    }
    const flat = draws({ kind: 'uniform', lo: 1e-6, hi: 1e-3 });
    expect(flat.filter((x) => x < 1e-4).length / flat.length).toBeLessThan(0.12); // ≈ 0.099
  });

  it('int: both ends included, every value drawn; log: true favours the small ones as log((k+1)/k)', () => {
    const ks = draws({ kind: 'int', lo: 2, hi: 5, log: false });
    expect([...new Set(ks)].sort()).toEqual([2, 3, 4, 5]);
    for (const k of [2, 3, 4, 5]) expect(ks.filter((x) => x === k).length / ks.length).toBeGreaterThan(0.22);
    const logs = draws({ kind: 'int', lo: 1, hi: 8, log: true });
    expect([...new Set(logs)].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const share = (k: number) => logs.filter((x) => x === k).length / logs.length;
    expect(share(1)).toBeGreaterThan(0.28); // log(2)/log(9) ≈ 0.315
    expect(share(1)).toBeLessThan(0.35);
    expect(share(8)).toBeGreaterThan(0.035); // log(9/8)/log(9) ≈ 0.054
    expect(share(8)).toBeLessThan(0.075);
  });

  it('choice: every value, each about as often', () => {
    const picks = drawRandom({ trials: 3000, seed: 5, dims: [{ key: 'x', path: ['x'], dist: { kind: 'choice', values: ['a', { b: 1 }, [2]] } }] }).map((r) => JSON.stringify(r[0]));
    for (const v of ['"a"', '{"b":1}', '[2]']) expect(picks.filter((p) => p === v).length / picks.length).toBeGreaterThan(0.3);
  });

  it('random alone, and zip × random; max_trials counts the draws', () => {
    expect(overrides('sweep.grid=null', 'sweep.random.trials=2').map((o) => o['training.epochs'])).toEqual([4, 2]);
    const zipped = overrides('sweep.grid=null', 'sweep.random.trials=2', 'sweep.zip={seed: [1, 2]}');
    expect(zipped.map((o) => [o.seed, o['training.epochs']])).toEqual([[1, 4], [1, 2], [2, 4], [2, 2]]);
    expect(configError(() => expandTrials(load('sweep.random.trials=600')))).toBe(
      'Config is not valid, found 1 problem:\n  test/fixtures/config/sweep-random.yaml:6:1 sweep: expands to 1,200 trials, more than sweep.max_trials (1000, the default); shorten the lists, or raise sweep.max_trials if you mean it',
    );
  });

  it('each trial is validated; a draw that no option accepts is located at its distribution and names the trial', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ftrun-random-'));
    const file = join(dir, 'x.yaml');
    mkdirSync(join(dir, 'm'));
    writeFileSync(file, 'name: x\ndataset: { type: jsonl, queries: q.jsonl }\nmodel: { path: ./m }\nsplitter: { type: ratio }\nsweep:\n  random:\n    trials: 3\n    space:\n      splitter.test: {uniform: [0.5, 1.5]}\n');
    const trials = (seed: number) => expandTrials(loadConfig(file, { env: {}, sets: [`sweep.random.seed=${seed}`] })).map((t) => t.overrides['splitter.test']);
    expect(trials(2)).toEqual([0.7696, 1.098, 1.297]);
    // trials 2 and 3 are out of range (trial 1 is not), and so is hi: each is located at the distribution and named
    expect(configError(() => validateTrials(loadConfig(file, { env: {}, sets: ['sweep.random.seed=2'] }), fakeRegistry()))).toBe(
      [
        'Config is not valid, found 3 problems:',
        `  ${file}:9:7 splitter.test: must be <= 1, found number 1.098 (sweep trial 2: splitter.test=1.098)`,
        `  ${file}:9:7 splitter.test: must be <= 1, found number 1.297 (sweep trial 3: splitter.test=1.297)`,
        `  ${file}:9:7 splitter.test: must be <= 1, found number 1.5 (sweep.random can draw splitter.test=1.5)`,
      ].join('\n'),
    );
    // not the luck of the draw: one trial that is valid, and the range's end that is not
    expect(configError(() => validateTrials(loadConfig(file, { env: {}, sets: ['sweep.random.seed=2', 'sweep.random.trials=1'] }), fakeRegistry()))).toBe(
      `Config is not valid, found 1 problem:\n  ${file}:9:7 splitter.test: must be <= 1, found number 1.5 (sweep.random can draw splitter.test=1.5)`,
    );
    const fine = validateTrials(loadConfig(file, { env: {}, sets: ['sweep.random.seed=2', 'sweep.random.trials=1', 'sweep.random.space["splitter.test"]={uniform: [0.5, 1]}'] }), fakeRegistry());
    expect(fine.map((t) => t.overrides)).toEqual([{ 'splitter.test': 0.6348 }]);
  });

  it('a choice that no trial drew is validated too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ftrun-random-'));
    const file = join(dir, 'x.yaml');
    mkdirSync(join(dir, 'm'));
    writeFileSync(file, 'name: x\ndataset: { type: jsonl, queries: q.jsonl }\nmodel: { path: ./m }\nsplitter: { type: ratio }\nsweep:\n  random:\n    trials: 1\n    seed: 1\n    space:\n      splitter.stratify: {choice: [true, false, flase]}\n');
    expect(expandTrials(loadConfig(file, { env: {} })).map((t) => t.overrides)).toEqual([{ 'splitter.stratify': false }]);
    expect(configError(() => validateTrials(loadConfig(file, { env: {} }), fakeRegistry()))).toBe(
      `Config is not valid, found 1 problem:\n  ${file}:10:7 splitter.stratify: expected true or false, found string "flase" (sweep.random can draw splitter.stratify="flase")`,
    );
  });
});

describe('sweep.random: mistakes', () => {
  it('every mistake at its line, with the valid choices', () => {
    expect(configError(() => expandTrials(loadConfig(BAD, { env: {} })))).toBe(
      [
        'Config is not valid, found 15 problems:',
        '  test/fixtures/config/sweep-random-bad.yaml:8:13 sweep.random.trials: must be a positive integer (the number of random draws), found number 0',
        '  test/fixtures/config/sweep-random-bad.yaml:9:5 sweep.random.seeds: unknown option "seeds". Did you mean "seed"? Allowed: trials, seed, space.',
        '  test/fixtures/config/sweep-random-bad.yaml:11:7 sweep.random.space.seed: "seed" is swept twice (in grid and random)',
        '  test/fixtures/config/sweep-random-bad.yaml:12:7 sweep.random.space["model.pooling"]: must be a distribution, found a list; to pick one of these values write {choice: ["cls", "mean"]}',
        '  test/fixtures/config/sweep-random-bad.yaml:13:13 sweep.random.space["a.b"].loguniforn: unknown distribution "loguniforn". Did you mean "loguniform"? Valid: choice, uniform, loguniform, int.',
        '  test/fixtures/config/sweep-random-bad.yaml:14:13 sweep.random.space["c.d"].uniform: lo must be less than hi, found [0.2, 0.1]',
        '  test/fixtures/config/sweep-random-bad.yaml:15:13 sweep.random.space["e.f"].loguniform: loguniform needs lo > 0, found [0, 1] (for a range from 0 use uniform)',
        '  test/fixtures/config/sweep-random-bad.yaml:16:13 sweep.random.space["g.h"].int: int bounds must be integers, found [1.5, 4]',
        '  test/fixtures/config/sweep-random-bad.yaml:17:13 sweep.random.space["i.j"].int: int with log: true needs lo ≥ 1, found [0, 4]',
        '  test/fixtures/config/sweep-random-bad.yaml:18:30 sweep.random.space["k.l"].log: log goes with int only (for log-spaced floats use loguniform)',
        '  test/fixtures/config/sweep-random-bad.yaml:19:13 sweep.random.space["m.n"].uniform: must be [lo, hi], two numbers, found [1]',
        '  test/fixtures/config/sweep-random-bad.yaml:20:13 sweep.random.space["o.p"].choice: must be a non-empty list of values, found []',
        '  test/fixtures/config/sweep-random-bad.yaml:21:7 sweep.random.space["q.r"]: must name a distribution: {choice: [a, b, …]}, {uniform: [lo, hi]}, {loguniform: [lo, hi]} or {int: [lo, hi]} (optionally with log: true)',
        '  test/fixtures/config/sweep-random-bad.yaml:22:7 sweep.random.space["s.t"]: names 2 distributions (uniform, int); give one',
        '  test/fixtures/config/sweep-random-bad.yaml:23:7 sweep.random.space.plugins: "plugins" cannot be swept',
      ].join('\n'),
    );
  });

  it('a missing trials or space, a random that is not a mapping, an empty sweep', () => {
    expect(configError(() => expandTrials(load('sweep.random.trials=null', 'sweep.random.space=null')))).toBe(
      [
        'Config is not valid, found 2 problems:',
        '  test/fixtures/config/sweep-random.yaml:9:3 sweep.random: needs "trials": how many random draws (e.g. trials: 8)',
        '  test/fixtures/config/sweep-random.yaml:9:3 sweep.random: needs "space": option path → distribution, e.g. space: { training.learning_rate: {loguniform: [1.0e-5, 1.0e-4]} }',
      ].join('\n'),
    );
    expect(configError(() => expandTrials(load('sweep.random=8')))).toBe(
      'Config is not valid, found 1 problem:\n  --set sweep.random: must be a mapping { trials: N, seed: S, space: { <option path>: <distribution> } }, found number 8',
    );
    expect(configError(() => expandTrials(load('sweep={max_trials: 3}')))).toBe('Config is not valid, found 1 problem:\n  --set sweep: must define "grid", "zip" and/or "random"');
    expect(configError(() => expandTrials(load('sweep.randon.trials=3')))).toContain(
      'Config is not valid, found 1 problem:\n  --set sweep.randon: unknown option "randon". Did you mean "random"? Allowed: grid, zip, random, max_trials, stop',
    );
  });
});
