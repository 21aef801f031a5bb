import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/load.js';
import { expandTrials, hasSweep } from '../../core/config/sweep.js';
import { validateConfig } from '../../core/config/validate.js';
import { UserError } from '../../core/errors.js';
import { fakeRegistry } from './fakes.js';

const F = 'test/fixtures/config/sweep.yaml';
const load = (...sets: string[]) => loadConfig(F, { env: {}, sets });

describe('sweep expansion', () => {
  it('grid × zip: grid keys in file order (last fastest), zip fastest of all', () => {
    const trials = expandTrials(load());
    expect(trials.map((t) => t.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const row = (t: (typeof trials)[number]) => Object.values(t.overrides).map((v) => JSON.stringify(v)).join(' ');
    expect(trials.map(row)).toEqual([
      '1 0.1 [1] "mrr@1"', '1 0.1 [5] "recall@5"',
      '1 0.2 [1] "mrr@1"', '1 0.2 [5] "recall@5"',
      '1 0.3 [1] "mrr@1"', '1 0.3 [5] "recall@5"',
      '2 0.1 [1] "mrr@1"', '2 0.1 [5] "recall@5"',
      '2 0.2 [1] "mrr@1"', '2 0.2 [5] "recall@5"',
      '2 0.3 [1] "mrr@1"', '2 0.3 [5] "recall@5"',
    ]);
    expect(Object.keys(trials[0]!.overrides)).toEqual(['seed', 'splitter.test', 'evaluate.k', 'evaluate.primary']);
  });

  it("each trial's config has the overrides applied, located at the sweep values, and no sweep", () => {
    const t = expandTrials(load())[5]!;
    expect(t.loaded.data).toEqual({
      name: 'sweep',
      dataset: { type: 'jsonl', queries: 'q.jsonl' },
      model: { path: './m' },
      splitter: { type: 'ratio', test: 0.3 },
      seed: 1,
      evaluate: { k: [5], primary: 'recall@5' },
    });
    const file = resolve(F);
    expect(t.loaded.locate(['splitter', 'test'])).toEqual({ file, line: 8, col: 31 });
    expect(t.loaded.locate(['evaluate', 'k', 0])).toEqual({ file, line: 10, col: 23 });
    expect(t.loaded.locateKey(['evaluate', 'k'])).toEqual({ file, line: 10, col: 5 });
    expect(t.loaded.locate(['splitter', 'type'])).toEqual({ file, line: 4, col: 19 });
    expect(hasSweep(t.loaded)).toBe(false);
    expect(validateConfig(t.loaded, fakeRegistry()).splitter).toEqual({ type: 'ratio', test: 0.3, stratify: false });
  });

  it('grid only and zip only', () => {
    const grid = expandTrials(load('sweep={grid: {seed: [1, 2], model.pooling: [cls, mean]}}'));
    expect(grid.map((t) => t.overrides)).toEqual([
      { seed: 1, 'model.pooling': 'cls' },
      { seed: 1, 'model.pooling': 'mean' },
      { seed: 2, 'model.pooling': 'cls' },
      { seed: 2, 'model.pooling': 'mean' },
    ]);
    expect(grid[3]!.loaded.locate(['model', 'pooling'])).toEqual({ file: '--set' });
    const zip = expandTrials(load('sweep={zip: {seed: [1, 2, 3], "sinks[0]": [{type: json}, {type: console}, {type: markdown}]}}', 'sinks=[{type: console}]'));
    expect(zip.map((t) => [t.loaded.data.seed, t.loaded.data.sinks])).toEqual([
      [1, [{ type: 'json' }]],
      [2, [{ type: 'console' }]],
      [3, [{ type: 'markdown' }]],
    ]);
  });

  it('no sweep → no trials', () => {
    const loaded = load('sweep=null');
    expect(hasSweep(loaded)).toBe(false);
    expect(expandTrials(loaded)).toEqual([]);
  });

  it('mismatched zip lengths throw a config error', () => {
    let err: unknown;
    try {
      expandTrials(load('sweep.zip["model.pooling"]=[cls, mean, max]'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toBe(
      'Config is not valid, found 1 problem:\n' +
        '  test/fixtures/config/sweep.yaml:9:3 sweep.zip: zip lists must have equal lengths: evaluate.k has 2 values, evaluate.primary has 2 values, model.pooling has 3 values',
    );
  });

  it('validateConfig validates every trial and returns the base with its sweep', () => {
    const cfg = validateConfig(load(), fakeRegistry());
    expect(cfg.sweep?.grid).toEqual({ seed: [1, 2], 'splitter.test': [0.1, 0.2, 0.3] });
    expect(cfg.splitter).toEqual({ type: 'ratio', test: 0.2, stratify: false });
    let msg = '';
    try {
      validateConfig(load('sweep.grid["splitter.test"]=[0.5, 2]'), fakeRegistry());
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toBe(
      'Config is not valid, found 1 problem:\n' +
        '  --set splitter.test: must be <= 1, found number 2 (sweep trial 3: seed=1, splitter.test=2, evaluate.k=[1], evaluate.primary="mrr@1")',
    );
  });
});
