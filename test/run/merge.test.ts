/**
 * training.merge (forgetting guard, LM-Cocktail's simple form): <run>/merged holds
 * base_weight · base + (1 − base_weight) · fine-tuned of every tensor, evaluated as model `merged`.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors, type TensorToWrite } from '../../core/safetensors.js';
import type { Leaderboard, RunEnv, RunMetrics } from '../../core/run/records.js';
import { renderLeaderboardTable, rankTrials } from '../../core/leaderboard.js';
import { exportBertOnnx } from '../../engine/export/onnx.js';
import { averageWeights, mergeModelDirs } from '../../engine/model/merge.js';
import OrtBackend from '../../plugins/backend/ort.js';
import { cli, tempDir } from '../helpers/cli.js';
import { makeContext } from '../helpers/context.js';
import { fakeBraintrust, type FakeBraintrust } from '../helpers/braintrust-server.js';
import { ROOT, TINY_BERT, describeShared, tinyBertSets } from '../helpers/shared.js';
import { formatDeltaWithInterval } from '../../core/stats.js';

const t = (shape: number[], ...xs: number[]) => ({ shape, data: Float32Array.from(xs) });

describe('averageWeights', () => {
  const base = new Map([['a', t([2], 1, -2)], ['b', t([1], 0.1)], ['position_ids', t([2], 0, 1)]]);
  const tuned = new Map([['a', t([2], 3, 5)], ['b', t([1], 0.7)]]);

  it('is w·base + (1−w)·tuned per value, as float32, for the tuned model\'s tensors', () => {
    const m = averageWeights(base, tuned, 0.25, { base: 'b', tuned: 't' });
    expect([...m.keys()]).toEqual(['a', 'b']);
    expect([...m.get('a')!.data]).toEqual([Math.fround(0.25 * 1 + 0.75 * 3), Math.fround(0.25 * -2 + 0.75 * 5)]);
    expect([...m.get('b')!.data]).toEqual([Math.fround(0.25 * Math.fround(0.1) + 0.75 * Math.fround(0.7))]);
    expect([...averageWeights(base, tuned, 0, { base: 'b', tuned: 't' }).get('b')!.data]).toEqual([...tuned.get('b')!.data]);
    expect([...averageWeights(base, tuned, 1, { base: 'b', tuned: 't' }).get('b')!.data]).toEqual([...base.get('b')!.data]);
  });

  it('refuses a tensor the base model lacks or has in another shape, naming both files', () => {
    expect(() => averageWeights(new Map([['a', t([2], 1, 2)]]), tuned, 0.5, { base: '/b/model.safetensors', tuned: '/t/model.safetensors' })).toThrow(
      "training.merge: the fine-tuned model's weight b (/t/model.safetensors) is not in the base model's weights (/b/model.safetensors), so the two cannot be averaged",
    );
    expect(() => averageWeights(new Map([['a', t([1, 2], 1, 2)], ['b', t([1], 1)]]), tuned, 0.5, { base: 'B', tuned: 'T' })).toThrow(
      'training.merge: weight a has shape [2] in the fine-tuned model (T) but [1,2] in the base model (B), so the two cannot be averaged',
    );
  });
});

/** A stand-in for a fine-tuned tiny-bert: its files, every weight shifted by a deterministic pattern, with its ONNX export. */
async function tunedTinyBert(dir: string): Promise<Map<string, TensorToWrite>> {
  cpSync(TINY_BERT, dir, { recursive: true });
  rmSync(join(dir, 'model.onnx'));
  const weights = new Map<string, TensorToWrite>();
  for (const [name, w] of readSafetensors(join(TINY_BERT, 'model.safetensors'))) {
    weights.set(name, { shape: w.shape, data: w.data.map((x, i) => x + 0.02 * Math.sin(i + name.length)) });
  }
  writeSafetensors(join(dir, 'model.safetensors'), weights, { format: 'pt' });
  await exportBertOnnx(dir, join(dir, 'onnx', 'model.onnx'));
  return weights;
}

async function embed(dir: string, texts: string[]): Promise<Float32Array[]> {
  const enc = await new OrtBackend({ intra_op_threads: 1, batch_size: 8, execution_providers: ['cpu'] }, makeContext()).loadEncoder({ path: dir, query_prompt: '', document_prompt: '' }, 'x');
  try {
    return await enc.encode(texts, { kind: 'document' });
  } finally {
    await enc.dispose();
  }
}

describeShared('mergeModelDirs (tiny-bert)', () => {
  it('writes every tensor as w·base + (1−w)·tuned; w=0 is the tuned model and w=1 the base, weights and embeddings', async () => {
    const root = tempDir('ftrun-merge-');
    const tunedDir = join(root, 'model');
    const tuned = await tunedTinyBert(tunedDir);
    const base = readSafetensors(join(TINY_BERT, 'model.safetensors'));
    // the base model's own weights through the same exporter, to compare embeddings exactly
    const baseDir = join(root, 'base');
    cpSync(TINY_BERT, baseDir, { recursive: true });
    rmSync(join(baseDir, 'model.onnx'));
    await exportBertOnnx(baseDir, join(baseDir, 'onnx', 'model.onnx'));
    const texts = ['Uber ride to the airport', 'Lunch with a client', 'Office chairs'];

    const merge = (w: number) => mergeModelDirs({ model: { path: TINY_BERT }, ctx: makeContext(), tunedDir, outDir: join(root, `merged-${w}`), baseWeight: w, exportOnnx: true });
    const half = await merge(0.25);
    expect(half).toEqual({ modelDir: join(root, 'merged-0.25'), baseDir: TINY_BERT, tensors: tuned.size, onnxFile: join(root, 'merged-0.25', 'onnx', 'model.onnx') });
    const got = readSafetensors(join(half.modelDir, 'model.safetensors'));
    expect([...got.keys()]).toEqual([...tuned.keys()]);
    for (const [name, tw] of tuned) {
      const want = new Float32Array(tw.data.length);
      const bw = base.get(name)!.data;
      for (let i = 0; i < want.length; i++) want[i] = 0.25 * bw[i]! + 0.75 * tw.data[i]!;
      expect(got.get(name)!.data, name).toEqual(want);
    }
    // the other files are the tuned model's; no stale ONNX of the tuned weights
    expect(readdirSync(half.modelDir).sort()).toEqual(readdirSync(tunedDir).sort());
    expect(readFileSync(join(half.modelDir, 'modules.json'), 'utf8')).toBe(readFileSync(join(tunedDir, 'modules.json'), 'utf8'));

    const zero = await merge(0);
    const one = await merge(1);
    for (const [name, tw] of tuned) {
      expect(readSafetensors(join(zero.modelDir, 'model.safetensors')).get(name)!.data, name).toEqual(tw.data);
      expect(readSafetensors(join(one.modelDir, 'model.safetensors')).get(name)!.data, name).toEqual(base.get(name)!.data);
    }
    expect(await embed(zero.modelDir, texts)).toEqual(await embed(tunedDir, texts));
    expect(await embed(one.modelDir, texts)).toEqual(await embed(baseDir, texts));
    expect(await embed(half.modelDir, texts)).not.toEqual(await embed(tunedDir, texts));
  }, 120_000);
});

const BGE = join(ROOT, 'configs', 'bge.yaml');
const COMMON = tinyBertSets({ maxSteps: 4, backend: '{type: ort, intra_op_threads: 1}' });

describeShared('ftrun run with training.merge (tiny-bert, transactions)', () => {
  it('evaluates the merged model as a third model: base_weight 1 scores as the base model', async () => {
    const dir = tempDir('ftrun-merge-run-');
    const r = await cli(['run', BGE, '--runs-dir', join(dir, 'runs'), '--json', ...COMMON, '--set', 'training.merge.base_weight=1']);
    expect(r.code, r.stderr).toBe(0);
    const runDir = JSON.parse(r.stdout).run_dir as string;
    const m = JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8')) as RunMetrics;
    expect(Object.keys(m.models)).toEqual(['base', 'finetuned', 'merged']);
    expect(m.models.merged).toEqual(m.models.base);
    expect(m.models.finetuned).not.toEqual(m.models.base); // the training changed the model, the merge undid it
    expect(m.delta_merged!['mrr@1']).toBe(0);
    expect(m.delta!['mrr@1']).toBe(m.models.finetuned!['mrr@1']! - m.models.base!['mrr@1']!);
    // the table (stderr, sink console) has a merged column and its Δ
    expect(r.stderr).toMatch(/\nmetric\s+base\s+fine-tuned\s+merged\s+Δ\s+Δ merged\n/);
    expect(r.stderr).toMatch(/primary: MRR@1 \(base [\d.]+, fine-tuned [\d.]+, merged [\d.]+, Δ [+-][\d.]+ \[[+-][\d.]+, [+-][\d.]+\] p[=<][\d.]+( n\.s\.)?, Δ merged \+0\.000 \[\+0\.000, \+0\.000\] p=1\.000 n\.s\.\)/);
    // merged/ beside model/, recorded in env.json, resolved.yaml and events.jsonl
    expect(existsSync(join(runDir, 'merged', 'model.safetensors')) && existsSync(join(runDir, 'merged', 'onnx', 'model.onnx'))).toBe(true);
    const env = JSON.parse(readFileSync(join(runDir, 'env.json'), 'utf8')) as RunEnv;
    expect(env.merge).toMatchObject({ base_weight: 1, model_dir: join(runDir, 'merged'), base_dir: TINY_BERT });
    expect(Object.keys(env.encoders)).toEqual(['base', 'finetuned', 'merged']);
    expect(readFileSync(join(runDir, 'resolved.yaml'), 'utf8')).toMatch(/\n {2}merge:\n {4}base_weight: 1\n/);
    const events = readFileSync(join(runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.filter((e) => e.type === 'eval').map((e) => e.model)).toEqual(['base', 'finetuned', 'merged']);
    expect(events.find((e) => e.type === 'merged')).toMatchObject({ base_weight: 1, model_dir: join(runDir, 'merged') });
    const perQuery = readFileSync(join(runDir, 'per_query.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { model: string });
    expect(perQuery.filter((q) => q.model === 'merged').length).toBe(perQuery.filter((q) => q.model === 'base').length);
    // report.md: the table with the merged column; the worst queries stay the fine-tuned model's
    const report = readFileSync(join(runDir, 'report.md'), 'utf8');
    expect(report).toContain('| metric | base | fine-tuned | merged | Δ | Δ merged |');
    expect(report).toContain('## Worst queries (fine-tuned)');
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    expect(html).toContain('<th>metric</th><th class="num">base</th><th class="num">fine-tuned</th><th class="num">merged</th><th class="num">Δ</th><th class="num">Δ merged</th>');
  }, 180_000);

  it('ftrun resume of an interrupted run whose merged model is missing merges again', async () => {
    const dir = tempDir('ftrun-merge-resume-');
    const r = await cli(['run', BGE, '--runs-dir', join(dir, 'runs'), '--json', '--quiet', ...COMMON, '--set', 'training.merge.base_weight=0.5']);
    expect(r.code, r.stderr).toBe(0);
    const runDir = JSON.parse(r.stdout).run_dir as string;
    const first = JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8')) as RunMetrics;
    const weights = readFileSync(join(runDir, 'merged', 'model.safetensors'));
    // as a run killed while merging leaves it: no merged/, a half-written one, status running, no merged metrics
    rmSync(join(runDir, 'merged'), { recursive: true });
    cpSync(join(runDir, 'model'), join(runDir, 'merged.tmp-999999'), { recursive: true });
    const env = JSON.parse(readFileSync(join(runDir, 'env.json'), 'utf8')) as RunEnv;
    writeFileSync(join(runDir, 'env.json'), JSON.stringify({ ...env, status: 'running', finished_at: null, merge: undefined }));
    writeFileSync(join(runDir, 'metrics.json'), JSON.stringify({ models: { base: first.models.base, finetuned: first.models.finetuned }, primary: 'mrr@1', status: 'running' }));
    const res = await cli(['resume', runDir, '--quiet']);
    expect(res.code, res.stderr).toBe(0);
    expect(readFileSync(join(runDir, 'merged', 'model.safetensors')).equals(weights)).toBe(true);
    expect(existsSync(join(runDir, 'merged.tmp-999999'))).toBe(false);
    const again = JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8')) as RunMetrics;
    expect(again.models.merged).toEqual(first.models.merged);
    expect((JSON.parse(readFileSync(join(runDir, 'env.json'), 'utf8')) as RunEnv).merge).toMatchObject({ base_weight: 0.5, model_dir: join(runDir, 'merged') });
  }, 180_000);

  it('sink braintrust logs the merged model as one more experiment, the base one as its baseline', async () => {
    const server: FakeBraintrust = await fakeBraintrust();
    try {
      const dir = tempDir('ftrun-merge-bt-');
      const argv = [join(ROOT, 'bin', 'ftrun.js'), 'run', BGE, '--runs-dir', join(dir, 'runs'), '--quiet', ...COMMON, '--set', 'training.merge.base_weight=0.5', '--set', 'name=fg', '--set', `sinks=[{type: json}, {type: braintrust, project: ftrun-test, app_url: "${server.url}", timeout_s: 20}]`];
      const child = spawn(process.execPath, argv, { cwd: dir, env: { ...process.env, BRAINTRUST_API_KEY: 'sk-bt-test-0123456789' } });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      expect(await new Promise<number | null>((res) => child.on('close', (code) => res(code))), stderr).toBe(0);
      expect(server.experiments.map((e) => [e.experiment_name, e.base_exp_id])).toEqual([
        ['fg-base', undefined],
        ['fg-finetuned', 'exp-fg-base'],
        ['fg-merged', 'exp-fg-base'],
      ]);
      const runDir = join(dir, 'runs', 'fg', readdirSync(join(dir, 'runs', 'fg'))[0]!);
      const m = JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8')) as RunMetrics;
      const rows = server.rows.filter((x) => x.experiment_id === 'exp-fg-merged');
      expect(rows.length).toBe(66);
      expect(rows.reduce((a, x) => a + (x.scores as Record<string, number>)['mrr@1']!, 0) / rows.length).toBeCloseTo(m.models.merged!['mrr@1']!, 10);
    } finally {
      await server.close();
    }
  }, 180_000);

  it('a sweep over training.merge.base_weight shows the merged model\'s primary metric per trial on the leaderboard', async () => {
    const dir = tempDir('ftrun-merge-sweep-');
    const file = join(dir, 'sweep.yaml');
    writeFileSync(file, `name: fg\nextends: ${join(ROOT, 'configs', 'forgetting-guard.yaml')}\nsweep:\n  grid:\n    training.merge.base_weight: [0, 1]\n`);
    const r = await cli(['run', file, '--runs-dir', join(dir, 'runs'), '--quiet', ...COMMON]);
    expect(r.code, r.stderr).toBe(0);
    const sweepDir = join(dir, 'runs', 'fg', readdirSync(join(dir, 'runs', 'fg')).find((n) => n.startsWith('sweep-'))!);
    const board = JSON.parse(readFileSync(join(sweepDir, 'leaderboard.json'), 'utf8')) as Leaderboard;
    const byWeight = new Map(board.trials.map((e) => [e.overrides['training.merge.base_weight'], e]));
    const metrics = (i: number) => JSON.parse(readFileSync(join(sweepDir, 'trials', String(i), 'metrics.json'), 'utf8')) as RunMetrics;
    const w0 = byWeight.get(0)!;
    const w1 = byWeight.get(1)!;
    // base_weight 0: the merged model is the fine-tuned one; 1: the base model
    // each Δ with its interval (the trial's metrics.json delta_merged_ci, sets_delta_ci); the base model merged with itself: no difference at all
    const none = { low: 0, high: 0, p: 1, significant: false };
    expect(w0.merged).toEqual({ value: metrics(w0.index).models.finetuned!['mrr@1'], delta: w0.delta, ci: metrics(w0.index).delta_merged_ci!['mrr@1'] });
    expect(w1.merged).toEqual({ value: metrics(w1.index).models.base!['mrr@1'], delta: 0, ci: none });
    expect(w0.merged!.value).not.toBe(w1.merged!.value);
    // the general set (evaluate.sets of forgetting-guard.yaml): Δ vs base there, of the fine-tuned and the merged model
    const general = (i: number) => metrics(i).sets!.general!;
    const generalCi = (i: number, model: string) => metrics(i).sets_delta_ci!.general![model]!['mrr@1'];
    expect(w0.sets!.general).toEqual({
      value: general(w0.index).finetuned!['mrr@1'],
      delta: general(w0.index).finetuned!['mrr@1']! - general(w0.index).base!['mrr@1']!,
      ci: generalCi(w0.index, 'finetuned'),
      merged: { value: general(w0.index).finetuned!['mrr@1'], delta: general(w0.index).finetuned!['mrr@1']! - general(w0.index).base!['mrr@1']!, ci: generalCi(w0.index, 'merged') },
    });
    expect(w1.sets!.general!.merged).toEqual({ value: general(w1.index).base!['mrr@1'], delta: 0, ci: none });
    const md = readFileSync(join(sweepDir, 'leaderboard.md'), 'utf8');
    expect(md).toContain('| rank | trial | overrides | MRR@1 | Δ MRR@1 | Δ best MRR@1 | merged MRR@1 | Δ merged MRR@1 | Δ MRR@1 [general] | Δ merged MRR@1 [general] |');
    // leaderboard.html: the same columns, and the chart plots both models against the weight
    const html = readFileSync(join(sweepDir, 'leaderboard.html'), 'utf8');
    expect(html).toContain('<th class="num">merged MRR@1</th><th class="num">Δ merged MRR@1</th><th class="num">Δ MRR@1 [general]</th><th class="num">Δ merged MRR@1 [general]</th>');
    const chart = html.slice(html.indexOf('<h2>By swept parameter</h2>'));
    expect(chart).toContain('MRR@1 by training.merge.base_weight');
    expect(chart).toMatch(/>fine-tuned</);
    expect(chart).toMatch(/>merged</);
    expect(chart).toMatch(/>merged \[general\]</);
    // each Δ with its interval; Δ best: this trial − the best one, paired per query
    const vsBest = w1.rank === 1 ? 'best' : formatDeltaWithInterval(w1.vs_best!.metrics['mrr@1']!.delta, w1.vs_best!.metrics['mrr@1']);
    expect(md).toContain(`| training.merge.base_weight=1 | ${w1.value!.toFixed(3)} | ${formatDeltaWithInterval(w1.delta, w1.delta_ci)} | ${vsBest} | ${w1.merged!.value!.toFixed(3)} | +0.000 [+0.000, +0.000] p=1.000 n.s. |`);
  }, 300_000);

  it('refuses a base_weight out of [0, 1] at its line, and training.merge with an adapter, naming the methods that support it', async () => {
    const dir = tempDir('ftrun-merge-bad-');
    const file = join(dir, 'exp.yaml');
    writeFileSync(file, `name: m\nextends: ${BGE}\ntraining:\n  merge:\n    base_weight: 1.5\n`);
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('exp.yaml:5:18 training.merge.base_weight: must be <= 1, found number 1.5');
    const run = await cli(['run', file, '--runs-dir', join(dir, 'runs')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('exp.yaml:5:18 training.merge.base_weight: must be <= 1, found number 1.5');
    expect(run.stderr).not.toMatch(/\n\s+at /);

    writeFileSync(file, `name: m\nextends: ${BGE}\ntraining:\n  method: adapter\n  merge: { base_weight: 0.5 }\n`);
    const a = await cli(['validate', file]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain(
      "exp.yaml:5:3 training.merge: has no effect here: training.method adapter leaves the encoder's weights as they are, so there is nothing to average with the base model; training.merge works with training.method full; remove it",
    );
  });
});

describe('leaderboard with merged models', () => {
  it('adds the merged primary metric and its Δ vs base to each trial that has one', () => {
    const metrics = (tuned: number, merged: number) => ({ models: { base: { 'mrr@1': 0.5 }, finetuned: { 'mrr@1': tuned }, merged: { 'mrr@1': merged } }, delta: { 'mrr@1': tuned - 0.5 }, primary: 'mrr@1', status: 'ok' });
    const entries = rankTrials(
      [
        { index: 1, overrides: { 'training.merge.base_weight': 0.25 }, runDir: 't/1', status: 'ok', metrics: metrics(0.75, 0.625) },
        { index: 2, overrides: { 'training.merge.base_weight': 0.75 }, runDir: 't/2', status: 'ok', metrics: metrics(0.75, 0.5) },
      ],
      'mrr@1',
    );
    expect(entries.map((e) => e.merged)).toEqual([{ value: 0.625, delta: 0.125 }, { value: 0.5, delta: 0 }]);
    expect(renderLeaderboardTable(entries, 'mrr@1', 'text')).toBe(
      [
        'rank  trial  overrides                        MRR@1  Δ MRR@1  merged MRR@1  Δ merged MRR@1',
        '   1      1  training.merge.base_weight=0.25  0.750   +0.250         0.625          +0.125',
        '   2      2  training.merge.base_weight=0.75  0.750   +0.250         0.500          +0.000',
      ].join('\n'),
    );
  });
});
