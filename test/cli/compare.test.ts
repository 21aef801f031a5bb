/**
 * `ftrun compare RUN…`: runs and sweep trials side by side (metrics with the base once when shared,
 * the differing config keys grouped per plugin with a swap shown once, training curves, per-category
 * recall), named by directory, latest / latest~N or id prefix.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { groupConfigDiff } from '../../core/config-diff.js';
import { cli, tempDir } from '../helpers/cli.js';
import { metrics, tempRoot, writeRun, writeSweep } from '../helpers/fake-runs.js';
import { TRANSACTIONS_EXPERIMENT, describeShared } from '../helpers/shared.js';

const BASE = { 'mrr@1': 0.3, 'recall@1': 0.3 };
const cfg = (loss: Record<string, unknown>, lr: number) => ({ name: 'bge', seed: 42, loss, training: { method: 'full', epochs: 1, learning_rate: lr }, sinks: [{ type: 'console' }] });

/** A fake run with events (train loss, test-split MRR@1) and per-query rows (two categories). */
function run(dir: string, o: { started: string; loss: Record<string, unknown>; lr: number; ft: Record<string, number>; base?: Record<string, number>; hits: [number, number] }): string {
  writeRun(dir, { config: cfg(o.loss, o.lr), metrics: metrics({ base: o.base ?? BASE, finetuned: o.ft }), env: { started_at: o.started, status: 'ok' } });
  const t = (type: string, f: Record<string, unknown>) => JSON.stringify({ time: o.started, type, ...f });
  const events = [t('train_step', { step: 1, loss: 2 }), t('train_eval', { step: 1, metrics: { 'mrr@1': 0.4 } }), t('train_step', { step: 2, loss: 1.5 }), t('train_eval', { step: 2, metrics: { 'mrr@1': o.ft['mrr@1'] } })];
  writeFileSync(join(dir, 'events.jsonl'), events.join('\n') + '\n');
  const q = (model: string, id: string, cat: string, r: number) => JSON.stringify({ model, query_id: id, text: id, expected: [cat], top: [], metrics: { 'recall@1': r, 'recall@3': 1 } });
  writeFileSync(join(dir, 'per_query.jsonl'), [q('base', 'q1', 'Travel', 0), q('base', 'q2', 'Office', 1), q('finetuned', 'q1', 'Travel', o.hits[0]), q('finetuned', 'q2', 'Office', o.hits[1])].join('\n') + '\n');
  return dir;
}

function threeRuns() {
  const root = tempRoot();
  const a = run(join(root, 'bge', '20250101-000000-aaaaaa'), { started: '2025-01-01T00:00:00Z', loss: { type: 'triplet', margin: 5 }, lr: 2e-5, ft: { 'mrr@1': 0.5, 'recall@1': 0.5 }, hits: [1, 0] });
  const b = run(join(root, 'bge', '20250102-000000-bbbbbb'), { started: '2025-01-02T00:00:00Z', loss: { type: 'multiple-negatives-ranking', scale: 20 }, lr: 2e-5, ft: { 'mrr@1': 0.6, 'recall@1': 0.6 }, hits: [1, 1] });
  const c = run(join(root, 'bge', '20250103-000000-cccccc'), { started: '2025-01-03T00:00:00Z', loss: { type: 'triplet', margin: 1 }, lr: 5e-5, ft: { 'mrr@1': 0.4, 'recall@1': 0.4 }, hits: [0, 1] });
  return { root, a, b, c };
}

describe('ftrun compare', () => {
  it('shows every metric per run with the shared base once, the config keys that differ grouped per plugin, training and per-category recall', async () => {
    const { root, a, b, c } = threeRuns();
    const r = await cli(['compare', '20250101', 'latest~1', 'latest', '--runs-dir', root]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        `20250101: ${a} (bge, ok)`,
        `latest~1: ${b} (bge, ok)`,
        `latest: ${c} (bge, ok)`,
        '',
        'metrics (base shared by every run):',
        '  metric     base  20250101  latest~1  latest',
        '  MRR@1     0.300     0.500     0.600   0.400',
        '  Recall@1  0.300     0.500     0.600   0.400',
        '',
        'Δ vs 20250101, paired per query:',
        '  metric    latest~1                              latest',
        // Travel 1 → 1 and Office 0 → 1: mean 0.5, resampled means 0, 0.5 or 1, every sign flip as far from 0
        '  Recall@1  +0.500 [+0.000, +1.000] p=1.000 n.s.  +0.000 [-1.000, +1.000] p=1.000 n.s.',
        '',
        '  Δ [95% paired bootstrap interval over 2 queries, 10000 resamples] and p (paired randomization test, 10000 sign flips); n.s.: not significant (the interval contains 0 or p ≥ 0.05).',
        '',
        'config: 3 differing keys:',
        '  group     key                      20250101  latest~1                    latest',
        '  loss      loss.type (plugin swap)  triplet   multiple-negatives-ranking  triplet',
        // the margin differs between the two triplet runs; multiple-negatives-ranking's scale came with the swap
        '            loss.margin              5         (absent)                    1',
        '  training  training.learning_rate   0.00002   0.00002                     0.00005',
        '',
        '',
      ].join('\n') +
        [
          'training:',
          '  run       steps  first loss  last loss  best test MRR@1',
          '  20250101      2      2.0000     1.5000   0.500 (step 2)',
          '  latest~1      2      2.0000     1.5000   0.600 (step 2)',
          '  latest        2      2.0000     1.5000   0.400 (step 1)',
          '',
          'Recall@1 per expected category:',
          '  category   base  20250101  latest~1  latest',
          '  Office    1.000     0.000     1.000   1.000',
          '  Travel    0.000     1.000     1.000   0.000',
          '',
        ].join('\n'),
    );
  });

  it('an option of a swapped plugin is listed where runs of the same kind differ in it; training.method is a kind', () => {
    const rows = groupConfigDiff([
      { loss: { type: 'triplet', margin: 5 }, training: { method: 'full', learning_rate: 2e-5, epochs: 1 } },
      { loss: { type: 'multiple-negatives-ranking', scale: 20 }, training: { method: 'full', learning_rate: 5e-5, epochs: 1 } },
      { loss: { type: 'triplet', margin: 1 }, training: { method: 'none' } },
    ]);
    expect(rows).toEqual([
      { group: 'loss', path: 'loss.type', swap: true, values: ['triplet', 'multiple-negatives-ranking', 'triplet'] },
      { group: 'loss', path: 'loss.margin', swap: false, values: [5, undefined, 1] },
      { group: 'training', path: 'training.method', swap: true, values: ['full', 'full', 'none'] },
      { group: 'training', path: 'training.learning_rate', swap: false, values: [2e-5, 5e-5, undefined] },
    ]);
  });

  it('groups config keys per plugin and shows a plugin swap once, sorted', () => {
    const rows = groupConfigDiff([
      { seed: 1, loss: { type: 'triplet', margin: 5, distance: 'cosine' }, training: { learning_rate: 2e-5, adapter: { type: 'linear', rank: 4 } }, sinks: [{ type: 'console' }] },
      { seed: 2, loss: { type: 'multiple-negatives-ranking', scale: 20 }, training: { learning_rate: 5e-5, adapter: { type: 'linear', rank: 8 } }, sinks: [{ type: 'console' }, { type: 'json', file: 'x.json' }] },
    ]);
    expect(rows).toEqual([
      { group: 'loss', path: 'loss.type', swap: true, values: ['triplet', 'multiple-negatives-ranking'] },
      { group: 'seed', path: 'seed', swap: false, values: [1, 2] },
      { group: 'sinks[1]', path: 'sinks[1].type', swap: true, values: [undefined, 'json'] },
      { group: 'training', path: 'training.learning_rate', swap: false, values: [2e-5, 5e-5] },
      { group: 'training.adapter', path: 'training.adapter.rank', swap: false, values: [4, 8] },
    ]);
  });

  it('--json has every run with its metrics, curves and categories; absent config values are null', async () => {
    const { root, a, c } = threeRuns();
    const r = await cli(['compare', a, c, '--json', '--runs-dir', root]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.primary).toBe('mrr@1');
    expect(j.shared_base).toEqual(BASE);
    expect(j.config).toEqual([
      { group: 'loss', path: 'loss.margin', swap: false, values: [5, 1] },
      { group: 'training', path: 'training.learning_rate', swap: false, values: [2e-5, 5e-5] },
    ]);
    expect(j.runs.map((x: { label: string }) => x.label)).toEqual(['20250101-000000-aaaaaa', '20250103-000000-cccccc']);
    expect(j.runs[0]).toMatchObject({ dir: a, status: 'ok', model: 'finetuned', metrics: { 'mrr@1': 0.5, 'recall@1': 0.5 }, base: BASE, curves: { train_loss: [[1, 2], [2, 1.5]], test: { metric: 'mrr@1', points: [[1, 0.4], [2, 0.5]] } }, categories: { Travel: 1, Office: 0 }, base_categories: { Travel: 0, Office: 1 } });
    expect(j.categories).toEqual({ metric: 'recall@1', labels: ['Office', 'Travel'] });
    expect(j.runs[0].vs_reference).toBeNull();
    expect(j.runs[1].vs_reference).toEqual({
      paired: 2,
      metrics: { 'recall@1': { delta: 0, low: -1, high: 1, p: 1, significant: false }, 'recall@3': { delta: 0, low: 0, high: 0, p: 1, significant: false } },
    });
  });

  it('shows each run\'s base as its own column when the bases differ', async () => {
    const root = tempRoot();
    const a = run(join(root, 'x', 'r1'), { started: '2025-01-01T00:00:00Z', loss: { type: 'triplet' }, lr: 1e-5, ft: { 'mrr@1': 0.5 }, base: { 'mrr@1': 0.3 }, hits: [1, 1] });
    const b = run(join(root, 'x', 'r2'), { started: '2025-01-02T00:00:00Z', loss: { type: 'triplet' }, lr: 1e-5, ft: { 'mrr@1': 0.6 }, base: { 'mrr@1': 0.2 }, hits: [1, 1] });
    const r = await cli(['compare', a, b, '--md']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(['## metrics', '', '| metric | r1 base | r1 | r2 base | r2 |', '| --- | ---: | ---: | ---: | ---: |', '| MRR@1 | 0.300 | 0.500 | 0.200 | 0.600 |', '', '## config: identical'].join('\n'));
  });

  it('a sweep stands for its trials', async () => {
    const root = tempRoot();
    const sweep = writeSweep(join(root, 'bge', 'sweep-20250101-000000-abcdef'), [
      { overrides: { 'training.learning_rate': 1e-5 }, config: cfg({ type: 'triplet' }, 1e-5), metrics: metrics({ base: BASE, finetuned: { 'mrr@1': 0.5, 'recall@1': 0.5 } }) },
      { overrides: { 'training.learning_rate': 2e-5 }, config: cfg({ type: 'triplet' }, 2e-5), metrics: metrics({ base: BASE, finetuned: { 'mrr@1': 0.7, 'recall@1': 0.6 } }) },
    ]);
    const r = await cli(['compare', 'sweep-2025', '--runs-dir', root]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain([
      `sweep-2025 #1: ${join(sweep, 'trials', '1')} (bge, ok)`,
      `sweep-2025 #2: ${join(sweep, 'trials', '2')} (bge, ok)`,
      '',
      'metrics (base shared by every run):',
      '  metric     base  sweep-2025 #1  sweep-2025 #2',
      '  MRR@1     0.300          0.500          0.700',
      '  Recall@1  0.300          0.500          0.600',
      '',
      'config: 1 differing key:',
      '  group     key                     sweep-2025 #1  sweep-2025 #2',
      '  training  training.learning_rate  0.00001        0.00002',
    ].join('\n'));
  });

  it('compares a run that has no metrics yet (running or killed) by its status', async () => {
    const { root, a } = threeRuns();
    const killed = writeRun(join(root, 'bge', '20250104-000000-dddddd'), { config: cfg({ type: 'triplet', margin: 5 }, 2e-5), env: { started_at: '2025-01-04T00:00:00Z', status: 'running' } });
    const r = await cli(['compare', a, 'latest', '--runs-dir', root]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`latest: ${killed} (bge, running, no metrics)\n`);
    // the killed run evaluated no base: the base is the other run's
    expect(r.stdout).toContain(
      [
        'metrics (base shared by the runs that evaluated it):',
        '  metric     base  20250101-000000-aaaaaa  latest',
        '  MRR@1     0.300                   0.500       —',
        '  Recall@1  0.300                   0.500       —',
        '',
        'config: identical',
        '',
        'training:',
      ].join('\n'),
    );
  });

  it('refuses fewer than two runs and two output formats (exit 2)', async () => {
    const { root, a } = threeRuns();
    const one = await cli(['compare', a, '--runs-dir', root]);
    expect(one.code).toBe(2);
    expect(one.stderr).toBe(`error[E_USAGE]: ftrun compare: expected at least two runs (or a sweep with two trials), got 1 from ${a}. See: ftrun compare --help\n`);
    const none = await cli(['compare']);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('error[E_USAGE]: ftrun compare: expected two or more runs (directories, latest, latest~N or id prefixes) or a sweep, got nothing. See: ftrun compare --help\n');
    const two = await cli(['compare', a, a, '--md', '--html']);
    expect(two.code).toBe(2);
    expect(two.stderr).toBe('error[E_USAGE]: ftrun compare: --md and --html each choose the output format; give one\n');
  });

  it('--html is one page with every run, the overlaid curves and the per-category chart', async () => {
    const { root } = threeRuns();
    const r = await cli(['compare', 'latest~2', 'latest~1', 'latest', '--html', '--runs-dir', root]);
    expect(r.code).toBe(0);
    const html = r.stdout;
    expect(html).toMatch(/^<!doctype html>/);
    for (const h of ['<h1>ftrun compare</h1>', '<h2>Metrics (base shared by every run)</h2>', '<h2>Δ vs latest~2, paired per query</h2>', '<h2>Config: 3 differing keys</h2>', '<h2>Training</h2>', '<h2>Recall@1 per expected category</h2>']) expect(html).toContain(h);
    expect(html).toContain('<td>loss.type (plugin swap)</td><td>triplet</td><td>multiple-negatives-ranking</td><td>triplet</td>');
    // the best value of a row in bold
    expect(html).toContain('<td>MRR@1</td><td class="num">0.300</td><td class="num">0.500</td><td class="num"><b>0.600</b></td><td class="num">0.400</td>');
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs).toHaveLength(3);
    for (const title of ['Training loss', 'Test split MRR@1 during training', 'Recall@1 per expected category']) expect(svgs.some((s) => s.includes(`>${title}</text>`))).toBe(true);
    // every run in each chart's legend
    for (const s of svgs) for (const label of ['latest~2', 'latest~1', 'latest']) expect(s).toContain(`>${label}</text>`);
  });
});

describeShared('ftrun compare (two real runs on tiny-bert)', () => {
  it('compares latest with latest~1: metrics as metrics.json, learning rate differs, curves from events.jsonl', async () => {
    const root = tempDir();
    const file = join(root, 'x.yaml');
    writeFileSync(file, `name: cmp\n${TRANSACTIONS_EXPERIMENT}splitter: { type: ratio, test: 0.2 }\nminer: { type: random-negative }\nloss: { type: multiple-negatives-ranking }\ntraining: { method: full, epochs: 1, batch_size: 32, eval_every: 4 }\nstore: { type: memory }\nsinks: []\n`);
    const runs = join(root, 'runs');
    for (const lr of ['1e-5', '1e-4']) {
      const r = await cli(['run', file, '--runs-dir', runs, '--quiet', '--set', `training.learning_rate=${lr}`]);
      expect(r.stderr.replace(/^warning: .*\n/gm, '')).toBe('');
      expect(r.code).toBe(0);
    }
    const r = await cli(['compare', 'latest~1', 'latest', '--json', '--runs-dir', runs]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    for (const x of j.runs) {
      const m = JSON.parse(readFileSync(join(x.dir, 'metrics.json'), 'utf8'));
      expect(x.metrics).toEqual(m.models.finetuned);
      expect(x.curves.train_loss.length).toBeGreaterThan(1);
      expect(x.curves.test.points.length).toBeGreaterThan(0);
      expect(Object.keys(x.categories).length).toBeGreaterThan(10);
    }
    expect(j.shared_base).toEqual(JSON.parse(readFileSync(join(j.runs[0].dir, 'metrics.json'), 'utf8')).models.base);
    expect(j.config).toEqual([{ group: 'training', path: 'training.learning_rate', swap: false, values: [1e-5, 1e-4] }]);
  }, 600_000);
});
