import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffCommand, flattenConfig, type DiffArgs } from '../../core/commands/diff.js';
import { UserError } from '../../core/errors.js';
import { metrics, tempRoot, writeRun, writeSweep } from '../helpers/fake-runs.js';

const cfgA = { name: 'bge', seed: 42, loss: { type: 'triplet', margin: 5 }, training: { epochs: 5, learning_rate: 2e-5 }, sinks: [{ type: 'console' }] };
const cfgB = { name: 'bge', loss: { type: 'triplet', margin: 0.3 }, training: { epochs: 5, learning_rate: 5e-5 }, sinks: [{ type: 'console' }, { type: 'json' }] };
const mA = metrics({ base: { 'mrr@1': 0.36, 'recall@3': 0.68 }, finetuned: { 'mrr@1': 0.56, 'recall@3': 0.86 } });
const mB = metrics({ base: { 'mrr@1': 0.36, 'recall@3': 0.68 }, finetuned: { 'mrr@1': 0.6, 'recall@3': 0.8 } });

function twoRuns() {
  const root = tempRoot();
  return {
    a: writeRun(join(root, 'bge', 'a'), { config: cfgA, metrics: mA }),
    b: writeRun(join(root, 'bge', 'b'), { config: cfgB, metrics: mB }),
    root,
  };
}

async function diff(args: Partial<DiffArgs> & { a: string; b: string }): Promise<string> {
  let text = '';
  const rc = await diffCommand({ all: false, format: 'text', ...args }, { out: (s) => void (text += s) });
  expect(rc).toBe(0);
  return text;
}

async function diffError(a: string, b: string): Promise<UserError> {
  try {
    await diffCommand({ a, b, all: false, format: 'text' }, { out: () => {} });
  } catch (e) {
    return e as UserError;
  }
  throw new Error('expected a UserError');
}

describe('ftrun diff (runs)', () => {
  it('flattens configs to dotted paths, indexing arrays of objects', () => {
    expect([...flattenConfig({ a: { b: 1, c: [1, 2] }, s: [{ t: 'x' }], e: {} }).entries()]).toEqual([
      ['a.b', 1], ['a.c', [1, 2]], ['s[0].t', 'x'], ['e', {}],
    ]);
  });

  it('shows changed config keys and signed metric deltas B − A', async () => {
    const { a, b } = twoRuns();
    expect(await diff({ a, b })).toBe(
      [
        `A: ${a} (ok)`,
        `B: ${b} (ok)`,
        '',
        'config: 4 changed keys',
        // grouped per plugin block and sorted (issue 18)
        '  key                     A         B',
        '  loss.margin             5         0.3',
        '  seed                    42        (absent)',
        '  sinks[1].type           (absent)  json',
        '  training.learning_rate  0.00002   0.00005',
        '',
        'metrics (B − A):',
        '  model       metric        A      B       Δ',
        '  base        MRR@1     0.360  0.360  +0.000',
        '  base        Recall@3  0.680  0.680  +0.000',
        '  fine-tuned  MRR@1     0.560  0.600  +0.040',
        '  fine-tuned  Recall@3  0.860  0.800  -0.060',
        '',
      ].join('\n'),
    );
  });

  it('two plugin swaps are two rows (their types), not every option that comes and goes with them; keys grouped per plugin and sorted', async () => {
    const root = tempRoot();
    const x = { name: 'bge', training: { method: 'full', epochs: 2, learning_rate: 2e-5 }, loss: { type: 'triplet', margin: 5, distance: 'cosine' }, miner: { type: 'random-negative', negatives_per_anchor: 1 } };
    const y = { name: 'bge', training: { method: 'full', epochs: 3, learning_rate: 2e-5 }, loss: { type: 'multiple-negatives-ranking', scale: 20, similarity: 'cos' }, miner: { type: 'hard-negative', top_k: 10, margin: 0.1 } };
    const a = writeRun(join(root, 'bge', 'a'), { config: x, metrics: mA });
    const b = writeRun(join(root, 'bge', 'b'), { config: y, metrics: mB });
    expect(await diff({ a, b })).toContain(
      [
        'config: 3 changed keys',
        '  key              A                B',
        '  loss.type        triplet          multiple-negatives-ranking',
        '  miner.type       random-negative  hard-negative',
        '  training.epochs  2                3',
        '',
      ].join('\n'),
    );
    const html = await diff({ a, b, format: 'html' });
    expect(html).toContain('<h2>Config: 3 changed keys</h2>\n<table><thead><tr><th>key</th><th>A</th><th>B</th></tr></thead><tbody><tr><td>loss.type</td><td>triplet</td><td>multiple-negatives-ranking</td></tr><tr><td>miner.type</td><td>random-negative</td><td>hard-negative</td></tr><tr><td>training.epochs</td><td>2</td><td>3</td></tr></tbody></table>');
  });

  it('--all lists every key and marks the changed ones', async () => {
    const { a, b } = twoRuns();
    const text = await diff({ a, b, all: true });
    expect(text).toContain(
      [
        'config: 4 changed keys',
        '     key                     A         B',
        '     name                    bge       bge',
        '  *  seed                    42        (absent)',
        '     loss.type               triplet   triplet',
        '  *  loss.margin             5         0.3',
        '     training.epochs         5         5',
        '  *  training.learning_rate  0.00002   0.00005',
        '     sinks[0].type           console   console',
        '  *  sinks[1].type           (absent)  json',
        '',
      ].join('\n'),
    );
  });

  it('--md renders Markdown', async () => {
    const { a, b } = twoRuns();
    expect(await diff({ a, b, format: 'md' })).toBe(
      [
        `- A: ${a} (ok)`,
        `- B: ${b} (ok)`,
        '',
        '## config: 4 changed keys',
        '',
        '| key | A | B |',
        '| --- | --- | --- |',
        '| loss.margin | 5 | 0.3 |',
        '| seed | 42 | (absent) |',
        '| sinks[1].type | (absent) | json |',
        '| training.learning_rate | 0.00002 | 0.00005 |',
        '',
        '## metrics (B − A)',
        '',
        '| model | metric | A | B | Δ |',
        '| --- | --- | ---: | ---: | ---: |',
        '| base | MRR@1 | 0.360 | 0.360 | +0.000 |',
        '| base | Recall@3 | 0.680 | 0.680 | +0.000 |',
        '| fine-tuned | MRR@1 | 0.560 | 0.600 | +0.040 |',
        '| fine-tuned | Recall@3 | 0.860 | 0.800 | -0.060 |',
        '',
      ].join('\n'),
    );
  });

  it('--json is {config, metrics} with null for absent values', async () => {
    const { a, b } = twoRuns();
    expect(JSON.parse(await diff({ a, b, format: 'json' }))).toEqual({
      config: [
        { path: 'seed', a: 42, b: null },
        { path: 'loss.margin', a: 5, b: 0.3 },
        { path: 'training.learning_rate', a: 2e-5, b: 5e-5 },
        { path: 'sinks[1].type', a: null, b: 'json' },
      ],
      metrics: {
        base: { 'mrr@1': { a: 0.36, b: 0.36, delta: 0 }, 'recall@3': { a: 0.68, b: 0.68, delta: 0 } },
        finetuned: { 'mrr@1': { a: 0.56, b: 0.6, delta: 0.04 }, 'recall@3': { a: 0.86, b: 0.8, delta: -0.06 } },
      },
      // neither run has per-query results (per_query.jsonl): no pairing, no interval
      queries: {},
    });
  });

  it('compares only models evaluated in both, and says which are missing', async () => {
    const root = tempRoot();
    const a = writeRun(join(root, 'a'), { config: cfgA, metrics: metrics({ base: { 'mrr@1': 0.3 } }, 'failed') });
    const b = writeRun(join(root, 'b'), { config: cfgA, metrics: mB });
    const text = await diff({ a, b });
    expect(text).toContain(`A: ${a} (failed)\n`);
    expect(text).toContain('config: identical\n');
    expect(text).toContain('  base   MRR@1     0.300  0.360  +0.060\n  base   Recall@3      —  0.680       —\n');
    expect(text).toContain('(fine-tuned only in B)\n');
    expect(JSON.parse(await diff({ a, b, format: 'json' }))).toEqual({
      config: [],
      metrics: { base: { 'mrr@1': { a: 0.3, b: 0.36, delta: 0.06 }, 'recall@3': { a: null, b: 0.68, delta: null } } },
      queries: {},
    });
  });

  it('compares two trials of a sweep', async () => {
    const root = tempRoot();
    const sweep = writeSweep(join(root, 'sweep'), [
      { overrides: { 'loss.margin': 5 }, config: { loss: { margin: 5 } }, metrics: mA },
      { overrides: { 'loss.margin': 0.3 }, config: { loss: { margin: 0.3 } }, metrics: mB },
    ]);
    const out = JSON.parse(await diff({ a: join(sweep, 'trials', '1'), b: join(sweep, 'trials', '2'), format: 'json' }));
    expect(out.config).toEqual([{ path: 'loss.margin', a: 5, b: 0.3 }]);
    expect(out.metrics.finetuned['mrr@1']).toEqual({ a: 0.56, b: 0.6, delta: 0.04 });
  });

  it('rejects a path that is not a run or sweep directory', async () => {
    const root = tempRoot();
    const { a } = twoRuns();
    mkdirSync(join(root, 'empty'));
    for (const bad of [join(root, 'missing'), join(root, 'empty')]) {
      const e = await diffError(a, bad);
      expect(e).toBeInstanceOf(UserError);
      expect(e.code).toBe('E_RUN');
      expect(e.message).toContain(bad);
      expect(e.message).toContain('expected a run directory (with metrics.json) or a sweep directory (with sweep.json)');
    }
  });

  it('names a malformed metrics.json', async () => {
    const { a, root } = twoRuns();
    const bad = join(root, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'metrics.json'), '{"models": ');
    const e = await diffError(a, bad);
    expect(e.code).toBe('E_RUN');
    expect(e.message).toContain(join(bad, 'metrics.json') + ': not valid JSON');
  });

  it('refuses to compare a run with a sweep', async () => {
    const { a, root } = twoRuns();
    const s = writeSweep(join(root, 's'), [{ overrides: {}, metrics: mA }]);
    const e = await diffError(a, s);
    expect(e.code).toBe('E_RUN');
    expect(e.message).toContain('cannot compare a run directory');
  });
});

describe('ftrun diff (sweeps)', () => {
  const trial = (lr: number, v: number | null) => ({
    overrides: { 'training.learning_rate': lr },
    metrics: v === null ? undefined : metrics({ base: { 'mrr@1': 0.3 }, finetuned: { 'mrr@1': v } }),
  });

  function twoSweeps() {
    const root = tempRoot();
    return {
      a: writeSweep(join(root, 'sa'), [trial(1e-5, 0.5), trial(2e-5, 0.6), trial(5e-5, null)]),
      b: writeSweep(join(root, 'sb'), [trial(2e-5, 0.65), trial(1e-5, 0.45), trial(1e-4, 0.7)]),
    };
  }

  it('compares best trials and matches trials by overrides', async () => {
    const { a, b } = twoSweeps();
    expect(await diff({ a, b })).toBe(
      [
        `A: ${a} (sweep, 3 trials)`,
        `B: ${b} (sweep, 3 trials)`,
        'primary: MRR@1',
        'best A: trial 2, 0.600 (training.learning_rate=0.00002)',
        'best B: trial 3, 0.700 (training.learning_rate=0.0001)',
        'best Δ (B − A): +0.100',
        '',
        'trials by overrides (MRR@1):',
        '  overrides                       A trial       A  B trial      B       Δ',
        '  training.learning_rate=0.00001        1   0.500        2  0.450  -0.050',
        '  training.learning_rate=0.00002        2   0.600        1  0.650  +0.050',
        '  training.learning_rate=0.00005        3  failed        —      —       —',
        '  training.learning_rate=0.0001         —       —        3  0.700       —',
        '',
      ].join('\n'),
    );
  });

  it('--json gives best trials and matched trials', async () => {
    const { a, b } = twoSweeps();
    const out = JSON.parse(await diff({ a, b, format: 'json' }));
    expect(out.primary).toBe('mrr@1');
    expect(out.best).toEqual({
      a: { index: 2, overrides: { 'training.learning_rate': 2e-5 }, model: 'finetuned', value: 0.6 },
      b: { index: 3, overrides: { 'training.learning_rate': 1e-4 }, model: 'finetuned', value: 0.7 },
      delta: 0.1,
    });
    expect(out.trials[0]).toEqual({
      overrides: { 'training.learning_rate': 1e-5 },
      a: { index: 1, status: 'ok', value: 0.5 },
      b: { index: 2, status: 'ok', value: 0.45 },
      delta: -0.05,
    });
    expect(out.trials[2]).toEqual({ overrides: { 'training.learning_rate': 5e-5 }, a: { index: 3, status: 'failed', value: null }, b: null, delta: null });
  });
});
