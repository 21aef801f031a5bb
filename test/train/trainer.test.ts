/**
 * The training loop on the tiny fixture model (wasm, one thread): schedule and events, determinism,
 * gradient accumulation, no tensor leaks, evaluation/best/load_best, save_total_limit, the guards
 * (too little data, NaN loss, batches without valid triplets) and resume after an abort.
 */
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configAjv } from '../../core/config/ajv.js';
import { beforeAll, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import { selectTfjsDevice } from '../../plugins/backend/tfjs/device.js';
import type { TfjsSentenceModel } from '../../plugins/backend/tfjs/sentence.js';
import { listCheckpoints, readCheckpoint } from '../../core/train/checkpoint.js';
import type { LossBatch, LossPlugin } from '../../core/train/loss.js';
import { AdamW } from '../../engine/train/optim.js';
import { createOptimizer, TrainStep } from '../../plugins/backend/tfjs/train-step.js';
import { runTraining, type TrainerRequest } from '../../core/train/trainer.js';
import { TRAINING_SCHEMA } from '../../core/train/training-schema.js';
import BatchSemiHardTripletLoss from '../../plugins/loss/batch-semi-hard-triplet.js';
import TripletLoss from '../../plugins/loss/triplet.js';
import { makeContext } from '../helpers/context.js';
import { describeShared } from '../helpers/shared.js';
import { examples, tinyModel, training, trainerRequest } from './fixture-data.js';
import { LossSeam } from '../../core/train/seam.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'ftrun-train-'));
const semiHardLoss: LossPlugin = await new BatchSemiHardTripletLoss({ margin: 5, distance_metric: 'euclidean' }, makeContext());
const semiHard = (): LossPlugin => semiHardLoss;
type Ev = Record<string, any>;

function maxDiff(a: TfjsSentenceModel, b: TfjsSentenceModel | Map<string, { data: Float32Array }>): number {
  const wb = b instanceof Map ? b : b.bert.exportTensors();
  let d = 0;
  for (const [name, t] of a.bert.exportTensors()) {
    const u = wb.get(name)!.data;
    for (let i = 0; i < t.data.length; i++) d = Math.max(d, Math.abs(t.data[i]! - u[i]!));
  }
  return d;
}

async function train(over: Partial<TrainerRequest> & { loss?: LossPlugin } = {}, dir = tmp()) {
  const model = tinyModel();
  const events: Ev[] = [];
  const warnings: string[] = [];
  const req: TrainerRequest = {
    ...trainerRequest(dir),
    loss: semiHard(),
    onEvent: (e) => events.push(e),
    logger: { info() {}, debug() {}, warn: (m) => warnings.push(m) },
    ...over,
    open: (seam) => {
      const cfg = req.training;
      return new TrainStep(model, seam, createOptimizer(model, cfg.learning_rate, cfg.weight_decay));
    },
  };
  const out = await runTraining(req);
  return { model, events, warnings, out, dir };
}

it('the training schema is strict, documents every option and fills the documented defaults', () => {
  // as core/config/envelope.ts uses it: the `training` property of the experiment schema
  const check = configAjv({ allErrors: true, useDefaults: true }).compile({ type: 'object', properties: { training: TRAINING_SCHEMA } });
  const validate = (training: Record<string, unknown>) => check({ training });
  const doc: { training?: Record<string, unknown> } = {};
  expect(check(doc)).toBe(true);
  expect(doc.training).toEqual({
    method: 'none', epochs: 1, batch_size: 16, warmup_ratio: 0.1, warmup_steps: 0, weight_decay: 0.01,
    max_grad_norm: 1.0, gradient_accumulation_steps: 1, batch_sampler: 'no-duplicates', samples_per_label: 2, scheduler: 'linear',
    eval_every: 0, save_total_limit: 2, load_best: true, export_onnx: true,
  });
  const cfg: Record<string, unknown> = { method: 'full' };
  expect(validate(cfg)).toBe(true);
  expect(cfg).toEqual({
    method: 'full', epochs: 1, batch_size: 16, warmup_ratio: 0.1, warmup_steps: 0, weight_decay: 0.01,
    max_grad_norm: 1.0, gradient_accumulation_steps: 1, batch_sampler: 'no-duplicates', samples_per_label: 2, scheduler: 'linear',
    eval_every: 0, save_total_limit: 2, load_best: true, export_onnx: true,
  });
  expect(validate({ method: 'full', batch_sampler: 'random' })).toBe(false);
  expect(validate({ method: 'full', learning_rate: 0 })).toBe(false);
  expect(validate({ method: 'full', epoch: 3 })).toBe(false);
  for (const p of Object.values(TRAINING_SCHEMA.properties as Record<string, { description?: string }>)) expect(p.description?.length).toBeGreaterThan(10);
});

describeShared('trainer', () => {
  beforeAll(async () => {
    await selectTfjsDevice('wasm', { threads: 1 });
  });

  it('runs epochs × batches steps with HF warmup/linear decay, evaluates and checkpoints each epoch', async () => {
    const { model, events, out, dir } = await train({ training: training({ epochs: 2, warmup_ratio: 0.25 }) });
    const steps = events.filter((e) => e.type === 'train_step');
    expect(steps).toHaveLength(8); // 64 examples / 16 × 2 epochs
    expect(out).toMatchObject({ steps: 8, totalSteps: 8, epochs: 2, samples: 128 });
    // warmup ceil(8 × 0.25) = 2 steps: lr 0, lr/2, then linear decay to 0 at step 8
    const lrs = steps.map((e) => e.lr);
    expect(lrs.map((x) => +x.toFixed(12))).toEqual([0, 2.5e-4, 5e-4, 4.1666666667e-4, 3.3333333333e-4, 2.5e-4, 1.6666666667e-4, 8.333333333e-5].map((x) => +x.toFixed(12)));
    for (const e of steps) expect(Number.isFinite(e.loss) && Number.isFinite(e.grad_norm) && e.grad_norm > 0).toBe(true);
    expect(steps.map((e) => e.epoch)).toEqual([0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]);
    const evals = events.filter((e) => e.type === 'eval');
    expect(evals.map((e) => e.step)).toEqual([4, 8]);
    expect(Object.keys(evals[0]!.metrics).sort()).toEqual(['mrr@1', 'mrr@3', 'recall@1', 'recall@3', 'triplet_accuracy']);
    expect(events.filter((e) => e.type === 'checkpoint').map((e) => e.step)).toEqual([4, 8]);
    expect(listCheckpoints(dir).map((c) => c.step)).toEqual([4, 8]);
    expect(out.best?.metric).toBe('mrr@1');
    model.dispose();
  });

  it('is deterministic: the same seed gives bit-identical weights, another seed other weights', async () => {
    const cfg = { training: training({ epochs: 1, max_grad_norm: 0.5 }) };
    const a = await train(cfg);
    const b = await train(cfg);
    const c = await train({ ...cfg, seed: 8 });
    expect(maxDiff(a.model, b.model)).toBe(0);
    expect(maxDiff(a.model, c.model)).toBeGreaterThan(0);
    // max_grad_norm clips the update, the reported norm is the one before clipping (as HF)
    expect(a.events.filter((e) => e.type === 'train_step').some((e) => e.grad_norm > 0.5)).toBe(true);
    for (const r of [a, b, c]) r.model.dispose();
  });

  it('gradient accumulation: two batches of 8 give the gradient of one batch of 16 (per-example loss)', async () => {
    const items = examples(16);
    /** AdamW that records the (clipped) gradients it is given, by weight name. */
    class Recording extends AdamW {
      grads = new Map<string, Float32Array>();
      override step(g: Record<string, tf.Tensor | undefined>, lr?: number): void {
        for (const [k, t] of Object.entries(g)) if (t) this.grads.set(k.slice(k.indexOf('/') + 1), t.dataSync() as Float32Array);
        super.step(g, lr);
      }
    }
    const run = async (batches: (typeof items)[]) => {
      const model = tinyModel();
      const opt = new Recording(model.trainableVariables, { lr: 1e-3, weightDecay: 0.01 });
      const r = await new TrainStep(model, new LossSeam(await new TripletLoss({ margin: 5, distance_metric: 'euclidean' }, makeContext())), opt).step(batches, 1e-3, 1.0);
      opt.dispose();
      model.dispose();
      return { r, grads: opt.grads };
    };
    const one = await run([items]);
    const two = await run([items.slice(0, 8), items.slice(8)]);
    expect(Math.abs(one.r.loss - two.r.loss)).toBeLessThan(1e-5);
    expect(Math.abs(one.r.gradNorm - two.r.gradNorm) / one.r.gradNorm).toBeLessThan(1e-5);
    expect([...two.grads.keys()].sort()).toEqual([...one.grads.keys()].sort());
    let worst = 0;
    let scale = 0;
    for (const [k, g] of one.grads) {
      const h = two.grads.get(k)!;
      for (let i = 0; i < g.length; i++) {
        worst = Math.max(worst, Math.abs(g[i]! - h[i]!));
        scale = Math.max(scale, Math.abs(g[i]!));
      }
    }
    expect(worst / scale).toBeLessThan(1e-5);
    // a batch of 8 alone gives another gradient: the check above is not vacuous
    expect(Math.abs((await run([items.slice(0, 8)])).r.gradNorm - one.r.gradNorm)).toBeGreaterThan(1e-3);
  });

  it('does not leak tensors: the count stays flat from step to step and returns to its start after a run', async () => {
    const model = tinyModel();
    const opt = new AdamW(model.trainableVariables, { lr: 1e-3 });
    const step = new TrainStep(model, new LossSeam(semiHard(), examples(48).map((e) => e.label!)), opt);
    const counts: number[] = [];
    for (let s = 0; s < 3; s++) {
      await step.step([examples(16, 16 * s)], 1e-3, 1.0);
      counts.push(tf.memory().numTensors);
    }
    expect(counts[2]).toBe(counts[1]);
    expect(counts[1]).toBe(counts[0]);
    opt.dispose();
    model.dispose();
    const before = tf.memory().numTensors;
    const r = await train({ training: training({ epochs: 1, gradient_accumulation_steps: 2 }) });
    expect(r.out.steps).toBe(2);
    r.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('load_best: the model ends with the best checkpoint; save_total_limit keeps it', async () => {
    // A loss that collapses every embedding onto one point: retrieval only gets worse.
    const collapse: LossPlugin = {
      needs: 'labelled',
      compute: (b: LossBatch) => tf.tidy(() => tf.mean(tf.sum(tf.square(tf.sub(b.anchor, tf.mean(b.anchor, 0, true))), 1))) as tf.Scalar,
    };
    const cfg = training({ epochs: 2, eval_every: 1, learning_rate: 3e-3, warmup_ratio: 0, save_total_limit: 2 });
    const r = await train({ loss: collapse, training: cfg });
    const best = r.out.best!;
    expect(best.step).toBeLessThan(8);
    expect(r.events.some((e) => e.type === 'load_best' && e.step === best.step)).toBe(true);
    // limit 2: the newest (8) and the best
    expect(listCheckpoints(r.dir).map((c) => c.step)).toEqual([best.step, 8]);
    expect(maxDiff(r.model, readCheckpoint(join(r.dir, `step-${best.step}`)).weights)).toBe(0);
    r.model.dispose();
    const last = await train({ loss: collapse, training: { ...cfg, load_best: false } });
    expect(maxDiff(last.model, readCheckpoint(join(last.dir, 'step-8')).weights)).toBe(0);
    last.model.dispose();
  });

  it('a dataset smaller than one batch is a config error naming training.batch_size and the count', async () => {
    const err = await train({ examples: examples(10) }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toMatch(/^training\.batch_size: 16 .* 10 training examples/);
  });

  it('a NaN loss stops the run naming the step and keeps the last good checkpoint', async () => {
    let calls = 0;
    const inner = semiHard();
    const nanAt3: LossPlugin = { needs: 'labelled', compute: (b) => (++calls === 3 ? tf.tidy(() => tf.mul(inner.compute(b), NaN)) : inner.compute(b)) as tf.Scalar };
    const dir = tmp();
    const err = await train({ loss: nanAt3, training: training({ eval_every: 1 }) }, dir).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain('training diverged at step 3 (epoch 1): non-finite loss (NaN)');
    expect(err.message).toContain(join(dir, 'step-2'));
    expect(listCheckpoints(dir).map((c) => c.step)).toEqual([1, 2]);
  });

  it('warns before training when batches cannot hold a valid triplet', async () => {
    const distinct = examples(32).map((e, i) => ({ ...e, label: `label-${i}` }));
    const r = await train({ examples: distinct, training: training({ epochs: 1 }) });
    expect(r.warnings.join('\n')).toMatch(/no label occurs twice among the 32 training examples/);
    r.model.dispose();
    const rare = examples(64).map((e, i) => ({ ...e, label: `label-${i % 63}` }));
    const r2 = await train({ examples: rare, training: training({ epochs: 1 }) });
    expect(r2.warnings.join('\n')).toMatch(/of the batches .* can hold a valid triplet.*group-by-label/);
    r2.model.dispose();
  });

  it('resume after an abort ends with the same weights as an uninterrupted run', async () => {
    const cfg = training({ epochs: 3, eval_every: 5, warmup_ratio: 0.2, batch_sampler: 'group-by-label' });
    const full = await train({ training: cfg });
    const dir = tmp();
    const ac = new AbortController();
    const first = tinyModel();
    const err = await runTraining({
      ...trainerRequest(dir, { training: cfg }),
      loss: semiHard(),
      open: (seam) => new TrainStep(first, seam, createOptimizer(first, cfg.learning_rate, cfg.weight_decay)),
      signal: ac.signal,
      onEvent: (e) => e.type === 'train_step' && e.step === 7 && ac.abort(),
    }).catch((e) => e);
    first.dispose();
    expect(err.message).toMatch(/interrupted at step 7/);
    expect(listCheckpoints(dir).map((c) => c.step)).toEqual([5, 7]);
    const resumed = await train({ training: cfg, resume: true }, dir);
    expect(resumed.out.resumedFrom).toBe(7);
    expect(resumed.events[0]).toMatchObject({ type: 'resume', step: 7 });
    expect(resumed.events.filter((e) => e.type === 'train_step').map((e) => e.step)[0]).toBe(8);
    expect(resumed.out.steps).toBe(full.out.steps);
    expect(maxDiff(resumed.model, full.model)).toBeLessThanOrEqual(1e-6);
    expect(resumed.out.best).toEqual(full.out.best);
    // a changed configuration cannot resume
    const bad = await train({ training: { ...cfg, learning_rate: 1e-3 }, resume: true }, dir).catch((e) => e);
    expect(bad).toBeInstanceOf(UserError);
    expect(bad.message).toMatch(/cannot resume .*\(learning_rate 0.0005 → 0.001\)/);
    for (const r of [full, resumed]) r.model.dispose();
    expect(existsSync(join(dir, 'step-12'))).toBe(true);
  });
});
