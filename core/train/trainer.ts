/**
 * The training loop of full fine-tuning (see docs/training.md):
 *   plan batches (sampler, seeded per epoch) → per optimizer step: TrainStep.step with the
 *   scheduled learning rate (HF linear warmup/decay) → every eval_every steps (or each epoch end)
 *   and at the end: evaluate on the test split, keep the best by the primary metric, checkpoint,
 *   prune → at the end, load the best checkpoint's weights (load_best).
 * Resume continues from the latest complete checkpoint: weights, AdamW state, position in the
 * batch plan; dropout seeds derive from the position, so a resumed run ends with the same
 * weights as an uninterrupted one. On abort (Ctrl-C) a checkpoint is written before stopping.
 * The model is left holding the final (or best) weights; the caller saves it.
 */
import { UserError } from '../errors.js';
import type { MetricName } from '../config/types.js';
import { deriveSeed } from '../rng.js';
import type { TfjsSentenceModel } from '../tfjs/sentence.js';
import type { Doc, Example, Logger, Progress, Query } from '../types.js';
import { type BestMetric, type CheckpointRef, checkpointPath, latestCheckpoint, pruneCheckpoints, readCheckpoint, removePartialCheckpoints, writeCheckpoint } from './checkpoint.js';
import { TrainingEvaluator } from './evaluator.js';
import type { LossPlugin } from './loss.js';
import { createSampler, validTripletShare } from './samplers.js';
import { LrSchedule } from './schedule.js';
import { createOptimizer, NonFiniteLossError, TrainStep } from './step.js';
import type { FullTrainingConfig } from './training-schema.js';
import { fingerprintOf, planSteps, preflight, resumeCheck } from './plan.js';

export interface TrainerRequest {
  model: TfjsSentenceModel;
  loss: LossPlugin;
  examples: Example[];
  training: FullTrainingConfig;
  /** The run seed (training.seed wins when set). */
  seed: number;
  test: Query[];
  corpus: Doc[];
  metrics: MetricName[];
  k: number[];
  primary: string;
  checkpointDir: string;
  resume: boolean;
  onEvent(event: Record<string, unknown>): void;
  logger: Logger;
  progress?: Progress;
  signal?: AbortSignal;
  /** Texts per forward pass when evaluating. */
  encodeBatchSize?: number;
}

export interface TrainerOutcome {
  steps: number;
  totalSteps: number;
  epochs: number;
  samples: number;
  /** Seconds in optimizer steps (all sessions of the run). */
  trainSeconds: number;
  best?: BestMetric;
  /** Metrics of the last evaluation. */
  metrics?: Record<string, number>;
  resumedFrom?: number;
  info: Record<string, unknown>;
}

const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/** Seed of the dropout masks of batch `b` of epoch `e`. */
export const dropoutSeed = (seed: number, e: number, b: number): number => deriveSeed(seed, `dropout/${e}/${b}`);

export async function runTraining(req: TrainerRequest): Promise<TrainerOutcome> {
  const cfg = req.training;
  const seed = cfg.seed ?? req.seed;
  const items = req.examples;
  const n = items.length;
  if (n < cfg.batch_size) {
    throw new UserError('E_CONFIG', `training.batch_size: ${cfg.batch_size} is more than the ${n} training example${n === 1 ? '' : 's'}, so not one batch can be formed; lower training.batch_size or add training data`);
  }
  const sampler = createSampler(items, req.loss.needs, { kind: cfg.batch_sampler, batchSize: cfg.batch_size, samplesPerLabel: cfg.samples_per_label, seed });
  let step = 0;
  let epoch = 0;
  let batchIdx = 0;
  const plans = new Map<number, number[][]>();
  const plan = (e: number): number[][] => plans.get(e) ?? plans.set(e, sampler.epoch(e)).get(e)!;
  /** Position as a fractional epoch (HF's `epoch` in logs). */
  const epochPos = (): number => (batchIdx === 0 ? epoch : r6(epoch + batchIdx / plan(epoch).length));
  const totalSteps = planSteps(cfg, plan);
  const labels = items.map((e) => e.label ?? '');
  preflight(req, sampler, plan(0), labels);

  const optimizer = createOptimizer(req.model, cfg.learning_rate, cfg.weight_decay);
  const stepper = new TrainStep(req.model, req.loss, optimizer, items.flatMap((e) => (e.label === undefined ? [] : [e.label])));
  const schedule = new LrSchedule(cfg.learning_rate, {
    type: cfg.scheduler === 'linear' ? 'linear' : 'constant_with_warmup',
    totalSteps,
    warmupSteps: cfg.warmup_steps,
    warmupRatio: cfg.warmup_ratio,
  });
  const evaluator = new TrainingEvaluator({ test: req.test, corpus: req.corpus, metrics: req.metrics, k: req.k, seed, batchSize: req.encodeBatchSize });
  const fingerprint = fingerprintOf(cfg, seed, items, req.loss.needs);

  let samples = 0;
  let trainSeconds = 0;
  let best: BestMetric | undefined;
  let metrics: Record<string, number> | undefined;
  let last: CheckpointRef | undefined;
  let resumedFrom: number | undefined;
  if (req.resume) {
    removePartialCheckpoints(req.checkpointDir);
    last = latestCheckpoint(req.checkpointDir);
    if (!last) req.logger.warn(`no checkpoint in ${req.checkpointDir}: training starts from the beginning`);
    else {
      const ck = readCheckpoint(last.dir);
      resumeCheck(ck.state.fingerprint, fingerprint, last.dir, req.logger);
      stepper.importWeights(ck.weights, last.dir);
      stepper.importOptimizer(ck.optimizer);
      ({ global_step: step, epoch, batch_in_epoch: batchIdx, samples_seen: samples, train_seconds: trainSeconds } = ck.state);
      best = ck.state.best;
      metrics = ck.state.metrics;
      resumedFrom = step;
      req.onEvent({ type: 'resume', step, epoch: epochPos(), checkpoint: last.dir });
      req.logger.info(`resuming from ${last.dir} (step ${step} of ${totalSteps})`);
    }
  }

  const checkpoint = (withMetrics: Record<string, number> | undefined): void => {
    const dir = writeCheckpoint(req.checkpointDir, {
      state: { global_step: step, epoch, batch_in_epoch: batchIdx, samples_seen: samples, seed, sampler: sampler.kind, ...(withMetrics ? { metrics: withMetrics } : {}), ...(best ? { best } : {}), train_seconds: trainSeconds, fingerprint },
      weights: stepper.exportWeights(),
      optimizer: stepper.exportOptimizer(),
      optimizerConfig: { type: 'AdamW', lr: cfg.learning_rate, betas: [optimizer.beta1, optimizer.beta2], eps: optimizer.eps, weight_decay: optimizer.weightDecay },
    });
    last = { step, dir };
    pruneCheckpoints(req.checkpointDir, cfg.save_total_limit, best?.step);
    req.onEvent({ type: 'checkpoint', step, epoch: epochPos(), path: dir, best: best?.step === step });
  };
  const evaluate = (): void => {
    metrics = evaluator.evaluate(req.model);
    const value = metrics[req.primary];
    if (value !== undefined && (best === undefined || value > best.value)) best = { metric: req.primary, value, step };
    req.onEvent({ type: 'eval', step, epoch: epochPos(), metrics, ...(best ? { best } : {}) });
  };

  const tripletShare = req.loss.needs === 'labelled' ? r6(validTripletShare(plan(epoch), labels)) : undefined;
  const bar = req.progress?.start('training', totalSteps);
  try {
    bar?.update(step);
    while (step < totalSteps) {
      const batches = plan(epoch);
      const micro = batches.slice(batchIdx, batchIdx + cfg.gradient_accumulation_steps);
      const lr = schedule.lrAt(step);
      const t0 = performance.now();
      let r;
      try {
        r = stepper.step(micro.map((b) => b.map((i) => items[i]!)), lr, cfg.max_grad_norm, micro.map((_, j) => dropoutSeed(seed, epoch, batchIdx + j)));
      } catch (e) {
        if (!(e instanceof NonFiniteLossError)) throw e;
        const kept = last ? `the last good checkpoint is ${last.dir} (step ${last.step})` : 'no checkpoint was saved before it';
        throw new Error(
          `training diverged at step ${step + 1} (epoch ${epoch + 1}): ${e.message}; the update was not applied and training stopped; ${kept}. ` +
            'Lower training.learning_rate or set training.max_grad_norm',
          { cause: e },
        );
      }
      trainSeconds += (performance.now() - t0) / 1000;
      step++;
      batchIdx += micro.length;
      samples += micro.reduce((s, b) => s + b.length, 0);
      const epochDone = batchIdx >= batches.length;
      req.onEvent({ type: 'train_step', step, epoch: r6(epoch + batchIdx / batches.length), loss: r.loss, lr, grad_norm: r.gradNorm, samples });
      if (epochDone) {
        plans.delete(epoch);
        epoch++;
        batchIdx = 0;
      }
      const final = step >= totalSteps;
      if (final || (cfg.eval_every > 0 ? step % cfg.eval_every === 0 : epochDone)) {
        evaluate();
        checkpoint(metrics);
      }
      bar?.update(step);
      await new Promise((res) => setImmediate(res)); // let signals and I/O through between steps
      if (req.signal?.aborted && !final) {
        if (last?.step !== step) checkpoint(undefined);
        throw new Error(`training interrupted at step ${step} of ${totalSteps}; checkpoint ${last!.dir} (resume with ftrun resume)`);
      }
    }

    if (cfg.load_best && best && best.step !== step) {
      const dir = checkpointPath(req.checkpointDir, best.step);
      stepper.importWeights(readCheckpoint(dir).weights, dir);
      req.onEvent({ type: 'load_best', step: best.step, metric: best.metric, value: best.value, path: dir });
    }
  } finally {
    bar?.done();
    optimizer.dispose();
  }
  return {
    steps: step,
    totalSteps,
    epochs: epochPos(),
    samples,
    trainSeconds,
    ...(best ? { best } : {}),
    ...(metrics ? { metrics } : {}),
    ...(resumedFrom !== undefined ? { resumedFrom } : {}),
    info: {
      total_steps: totalSteps,
      examples: n,
      batch_sampler: sampler.kind,
      valid_triplet_share: tripletShare,
      warmup_steps: schedule.warmupSteps,
      seed,
    },
  };
}
