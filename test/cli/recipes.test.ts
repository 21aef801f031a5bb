/**
 * One end-to-end run per training recipe in configs/ (issue 17), each on the fixture model
 * (tiny-bert: 2 layers, 64 dims) and the reference data, with only what the fixture needs overridden
 * (the model; the memory store; Matryoshka dims that fit 64). Each run must finish ok and must have
 * trained (the loss falls from the first epoch to the last, or the saved weights differ from the
 * base's), and shows what is particular to its recipe: the mined n-tuples, the batch size a batch
 * of 128 really gets on 27 category names, the per-dimension table, the score column read, the
 * Cohere file read as shipped, the merge sweep's leaderboard. docs/training.md ("Recipes") records each run's result table.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { readSafetensors } from '../../core/safetensors.js';
import type { Leaderboard, RunMetrics } from '../../core/run/records.js';
import { cli, tempDir } from '../helpers/cli.js';
import { ROOT, TINY_BERT, describeShared } from '../helpers/shared.js';

const config = (name: string) => join(ROOT, 'configs', `${name}.yaml`);
const MODEL = ['--set', `model={path: ${TINY_BERT}}`];
const MEMORY = ['--set', 'store.type=memory'];

type Event = Record<string, unknown> & { type: string };
interface Step {
  step: number;
  epoch: number;
  loss: number;
  grad_norm: number;
  samples: number;
}

interface Ran {
  runDir: string;
  stderr: string;
  events: Event[];
  steps: Step[];
  /** Examples in each step's batch (train_step samples are cumulative). */
  sizes: number[];
  summary: { status: string; models: Record<string, Record<string, number>> };
}

/** `ftrun run` (in-process, logs kept: warnings are part of what a recipe shows). */
async function run(name: string, extra: string[]): Promise<Ran> {
  const r = await cli(['run', config(name), '--runs-dir', tempDir('ftrun-recipe-'), '--json', ...MODEL, ...extra]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).not.toMatch(/error/i);
  const summary = JSON.parse(r.stdout) as Ran['summary'] & { run_dir: string };
  expect(summary.status).toBe('ok');
  const events = readFileSync(join(summary.run_dir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Event);
  const steps = events.filter((e) => e.type === 'train_step') as unknown as Step[];
  const sizes = steps.map((s, i) => s.samples - (i === 0 ? 0 : steps[i - 1]!.samples));
  for (const s of steps) expect(Number.isFinite(s.loss) && Number.isFinite(s.grad_norm)).toBe(true);
  return { runDir: summary.run_dir, stderr: r.stderr, events, steps, sizes, summary };
}

const mined = (r: Ran) => r.events.find((e) => e.type === 'mined') as { examples: number; shapes: string[]; negatives: Record<string, number>; stats?: Record<string, number> };

/** Mean step loss of epoch e (1-based). */
function epochLoss(steps: Step[], e: number): number {
  const of = steps.filter((s) => Math.ceil(s.epoch - 1e-9) === e);
  expect(of.length).toBeGreaterThan(0);
  return of.reduce((a, s) => a + s.loss, 0) / of.length;
}

/** Largest absolute difference between the run's saved weights and the fixture model's. */
function weightChange(runDir: string): number {
  const base = readSafetensors(join(TINY_BERT, 'model.safetensors'));
  const tuned = readSafetensors(join(runDir, 'model', 'model.safetensors'));
  expect([...tuned.keys()].sort()).toEqual([...base.keys()].sort());
  let max = 0;
  for (const [k, t] of base) {
    const u = tuned.get(k)!.data;
    for (let i = 0; i < t.data.length; i++) max = Math.max(max, Math.abs(t.data[i]! - u[i]!));
  }
  return max;
}

const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;

describeShared('the recipes in configs/, end to end on tiny-bert and the reference data (ort)', () => {
  it('mnrl-mined: MNRL over (query, positive, 3 mined hard negatives) n-tuples; the guards report their counts; the loss falls', async () => {
    const r = await run('mnrl-mined', MEMORY);
    const m = mined(r);
    // Every one of the 208 training queries gives one n-tuple, unless fewer than 3 negatives survive the guards.
    expect(Object.keys(m.stats!)).toEqual(['removed_by_absolute_margin', 'removed_by_margin', 'removed_by_max_score', 'skipped_queries']);
    expect(m.stats!.removed_by_margin).toBeGreaterThan(0);
    expect(m.examples + m.stats!.skipped_queries!).toBe(208);
    expect(m.shapes).toContain('triplets');
    // Every example is an n-tuple with exactly 3 negatives (the event counts examples per number of negatives).
    expect(m.negatives).toEqual({ '3': m.examples });
    expect(r.stderr).toContain(`miner hard-negative: ${m.examples} training examples (${m.examples} with 3 negatives)\n`);
    const skipped = /skipped (\d+) of 208 queries with fewer than 3 negatives \(output_format n-tuple\) left in ranks \[0, 10\) after the margin guard \(0\.05\)/.exec(r.stderr);
    expect(skipped, r.stderr).not.toBeNull();
    expect(Number(skipped![1])).toBe(m.stats!.skipped_queries);
    expect(r.stderr).toContain(`training (full) on ${m.examples} examples`);
    // Each example holds 4 distinct category names (positive + 3 negatives), and no-duplicates keeps
    // every one of them unique within a batch: at most 6 examples a batch out of 27 names, not 16.
    expect(Math.max(...r.sizes)).toBeLessThanOrEqual(6);
    expect(r.sizes.reduce((a, n) => a + n, 0)).toBe(5 * m.examples);
    const firstEpoch = r.sizes.slice(0, r.steps.filter((s) => s.epoch <= 1 + 1e-9).length);
    expect(firstEpoch.reduce((a, n) => a + n, 0)).toBe(m.examples);
    expect(r.stderr).toContain(
      `warning: no-duplicates batches average ${mean(firstEpoch).toFixed(1)} examples instead of 16: the examples repeat texts (e.g. few distinct positives, or negatives that are other examples' positives), which cannot share a batch`,
    );
    expect(epochLoss(r.steps, 5)).toBeLessThan(epochLoss(r.steps, 1));
    expect(weightChange(r.runDir)).toBeGreaterThan(1e-5);
  }, 300_000);

  it('mnrl-cached at batch_size 128: no-duplicates caps a batch at 13 on 27 category names (the cap is warned); group-by-label gives real batches of 128', async () => {
    const r = await run('mnrl-cached', MEMORY);
    const resolved = readFileSync(join(r.runDir, 'resolved.yaml'), 'utf8');
    expect(resolved).toMatch(/type: cached-multiple-negatives-ranking/);
    expect(resolved).toMatch(/batch_size: 128/);
    expect(resolved).toMatch(/mini_batch_size: 16/);
    // Each example is (transaction, its category, a random other category; bge.yaml's random-negative
    // miner): 2 of the 27 names, so at most 13 examples share a batch, and far fewer on average.
    expect(Math.max(...r.sizes)).toBeLessThanOrEqual(13);
    const firstEpoch = r.sizes.slice(0, r.steps.filter((s) => s.epoch <= 1 + 1e-9).length);
    expect(firstEpoch.reduce((a, n) => a + n, 0)).toBe(208);
    expect(r.stderr).toContain(
      `warning: no-duplicates batches average ${mean(firstEpoch).toFixed(1)} examples instead of 128: the examples repeat texts (e.g. few distinct positives, or negatives that are other examples' positives), which cannot share a batch`,
    );
    expect(epochLoss(r.steps, 5)).toBeLessThan(epochLoss(r.steps, 1));
    expect(weightChange(r.runDir)).toBeGreaterThan(1e-5);

    // group-by-label (8 examples per category) fills batches of 128: 208 examples are 2 steps an epoch,
    // each embedded in chunks of 16 (GradCache), with each category up to 8 times in a batch.
    const big = await run('mnrl-cached', [...MEMORY, '--set', 'training.batch_sampler=group-by-label', '--set', 'training.samples_per_label=8']);
    expect(big.steps).toHaveLength(10);
    expect(Math.max(...big.sizes)).toBe(128);
    expect(big.sizes.reduce((a, n) => a + n, 0)).toBe(5 * 208);
    expect(big.stderr).not.toContain('no-duplicates batches average');
    for (const s of big.steps) expect(s.grad_norm).toBeGreaterThan(0);
  }, 300_000);

  it('matryoshka with evaluate.dims: trains [64, 32, 16] and metrics.json has base and fine-tuned per dimension', async () => {
    const r = await run('matryoshka', [...MEMORY, '--set', 'loss.dims=[64, 32, 16]', '--set', 'evaluate.dims=[32, 16]']);
    const m = JSON.parse(readFileSync(join(r.runDir, 'metrics.json'), 'utf8')) as RunMetrics;
    expect(Object.keys(m.dims!).sort()).toEqual(['base', 'finetuned']);
    for (const model of ['base', 'finetuned']) {
      expect(Object.keys(m.dims![model]!).sort()).toEqual(['16', '32']);
      for (const d of ['16', '32']) {
        expect(Object.keys(m.dims![model]![d]!)).toEqual(Object.keys(m.models[model]!));
        for (const v of Object.values(m.dims![model]![d]!)) expect(v >= 0 && v <= 1).toBe(true);
      }
    }
    expect(r.stderr).toMatch(/base at dim 16: mrr@1 [\d.]+\n/);
    expect(r.stderr).toMatch(/finetuned at dim 32: mrr@1 [\d.]+\n/);
    // The fine-tuned model's 16-value prefix ranks differently from the base's.
    expect(m.dims!.finetuned!['16']).not.toEqual(m.dims!.base!['16']);
    expect(epochLoss(r.steps, 5)).toBeLessThan(epochLoss(r.steps, 1));
    expect(weightChange(r.runDir)).toBeGreaterThan(1e-5);
  }, 300_000);

  it('scored-pairs: CoSENT reads the score column (the same pairs with other scores give another loss at the same step)', async () => {
    const r = await run('scored-pairs', []);
    expect(r.events.find((e) => e.type === 'split')).toMatchObject({ train: 132, test: 0, eval: 10, corpus: 27 });
    expect(mined(r)).toMatchObject({ examples: 132 });
    expect(weightChange(r.runDir)).toBeGreaterThan(1e-5);
    // The same records with each score s replaced by 1 − s: same batches, same base model at step 1
    // (lr 0 there, warmup), so only the scores differ, and so does the loss.
    const dir = tempDir();
    const flipped = join(dir, 'flipped.jsonl');
    const rows = readFileSync(join(ROOT, 'configs', 'data', 'scored-pairs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { score: number });
    writeFileSync(flipped, rows.map((o) => JSON.stringify({ ...o, score: 1 - o.score })).join('\n') + '\n');
    const f = await run('scored-pairs', ['--set', `dataset.queries=${flipped}`]);
    expect(f.sizes).toEqual(r.sizes);
    expect(Math.abs(f.steps[0]!.loss - r.steps[0]!.loss)).toBeGreaterThan(1e-3);
  }, 300_000);

  it('cohere-hard-negatives: the Cohere-format file trains through the config unchanged except the model', async () => {
    const r = await run('cohere-hard-negatives', []);
    expect(r.events.find((e) => e.type === 'split')).toMatchObject({ train: 43, test: 11, eval: 11, corpus: 27 });
    expect(mined(r)).toMatchObject({ examples: 43, shapes: ['labelled', 'pairs', 'triplets'], negatives: { '2': 43 } });
    expect(r.sizes.reduce((a, n) => a + n, 0)).toBe(43);
    expect(readFileSync(join(r.runDir, 'resolved.yaml'), 'utf8')).toMatch(/negatives: hard_negatives/);
    expect(weightChange(r.runDir)).toBeGreaterThan(1e-5);
  }, 300_000);

  it('forgetting-guard: the sweep over training.merge.base_weight runs 4 trials; each evaluates base, fine-tuned and merged on both sets, and the leaderboard shows them', async () => {
    const r = await cli(['run', config('forgetting-guard'), '--runs-dir', tempDir('ftrun-recipe-'), '--json', ...MODEL, ...MEMORY]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/error/i);
    const sweepDir = (JSON.parse(r.stdout) as { sweep_dir: string }).sweep_dir;
    const board = JSON.parse(readFileSync(join(sweepDir, 'leaderboard.json'), 'utf8')) as Leaderboard;
    expect(board.primary).toBe('mrr@1');
    expect(board.trials.map((t) => [t.index, t.status, t.overrides])).toEqual(
      [0, 0.25, 0.5, 0.75].map((w, i) => [i + 1, 'ok', { 'training.merge.base_weight': w }]),
    );
    // leaderboard.md's table, cell by cell under its column names (a Δ cell may carry more after its value)
    const table = readFileSync(join(sweepDir, 'leaderboard.md'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('| '))
      .map((l) => l.slice(2, -2).split(' | '));
    const [header, , ...rows] = table;
    for (const name of ['MRR@1', 'Δ MRR@1', 'merged MRR@1', 'Δ merged MRR@1', 'Δ MRR@1 [general]', 'Δ merged MRR@1 [general]', 'MRR@3']) expect(header).toContain(name);
    expect(rows).toHaveLength(4);
    const cell = (row: string[], name: string) => row[header!.indexOf(name)]!;
    const signed = (x: number) => (x < 0 && Math.abs(x).toFixed(3) !== '0.000' ? '-' : '+') + Math.abs(x).toFixed(3);
    for (const t of board.trials) {
      const w = t.overrides['training.merge.base_weight'] as number;
      const dir = join(sweepDir, 'trials', String(t.index));
      const m = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as RunMetrics;
      expect(Object.keys(m.models).sort()).toEqual(['base', 'finetuned', 'merged']);
      expect(Object.keys(m.sets!)).toEqual(['general']);
      const general = m.sets!.general!;
      expect(Object.keys(general).sort()).toEqual(['base', 'finetuned', 'merged']);
      for (const model of ['base', 'finetuned', 'merged']) expect(Object.keys(general[model]!)).toEqual(Object.keys(m.models.base!));
      expect(weightChange(dir)).toBeGreaterThan(1e-5);
      // base_weight 0: the merged model is the fine-tuned one, on both sets
      if (w === 0) {
        expect(m.models.merged).toEqual(m.models.finetuned);
        expect(general.merged).toEqual(general.finetuned);
      }
      // leaderboard.json and leaderboard.md carry this trial's metrics.json values
      const v = (models: Record<string, Record<string, number>>, model: string) => models[model]!['mrr@1']!;
      expect(t.model).toBe('finetuned');
      expect(t.value).toBe(v(m.models, 'finetuned'));
      expect(t.delta).toBe(v(m.models, 'finetuned') - v(m.models, 'base'));
      expect(t.merged).toMatchObject({ value: v(m.models, 'merged'), delta: v(m.models, 'merged') - v(m.models, 'base') });
      expect(Object.keys(t.sets!)).toEqual(['general']);
      expect(t.sets).toMatchObject({
        general: {
          value: v(general, 'finetuned'),
          delta: v(general, 'finetuned') - v(general, 'base'),
          merged: { value: v(general, 'merged'), delta: v(general, 'merged') - v(general, 'base') },
        },
      });
      const row = rows.find((r) => cell(r, 'overrides') === `training.merge.base_weight=${w}`)!;
      expect(row, `leaderboard.md row of base_weight ${w}`).toBeDefined();
      expect([cell(row, 'rank'), cell(row, 'trial')]).toEqual([String(t.rank), String(t.index)]);
      expect(cell(row, 'MRR@1')).toBe(t.value!.toFixed(3));
      expect(cell(row, 'merged MRR@1')).toBe(t.merged!.value!.toFixed(3));
      expect(cell(row, 'MRR@3')).toBe(m.models.finetuned!['mrr@3']!.toFixed(3));
      expect(cell(row, 'Δ MRR@1').split(' ')[0]).toBe(signed(t.delta!));
      expect(cell(row, 'Δ merged MRR@1').split(' ')[0]).toBe(signed(t.merged!.delta!));
      expect(cell(row, 'Δ MRR@1 [general]').split(' ')[0]).toBe(signed(t.sets!.general!.delta!));
      expect(cell(row, 'Δ merged MRR@1 [general]').split(' ')[0]).toBe(signed(t.sets!.general!.merged!.delta!));
    }
  }, 300_000);
});
