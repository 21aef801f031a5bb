/**
 * The training loop of full fine-tuning (see docs/training.md):
 *   plan batches (sampler, seeded per epoch) → per optimizer step: TrainStep.step with the
 *   scheduled learning rate (HF linear warmup/decay) → every eval_every steps (or each epoch end)
 *   and at the end: evaluate on the test split, keep the best by the primary metric, checkpoint,
 *   prune → at the end, load the best checkpoint's weights (load_best).
 * Resume continues from the latest complete checkpoint: weights, AdamW state, position in the
 * batch plan; dropout seeds derive from the position, so a resumed run ends with the same
 * weights as an uninterrupted one. On abort (Ctrl-C) a checkpoint is written before stopping.
 * The engine's session is left holding the final (or best) weights; the caller saves them.
 *
 * Engine-agnostic: a training engine (a backend that can train: tfjs, ort) opens a TrainingSession
 * — its own forward/backward, its implementation of the loss, its optimizer state — and this
 * loop drives it.
 */
import { UserError } from '../errors.js';
import type { MetricName } from '../config/types.js';
import { deriveSeed } from '../rng.js';
import type { TensorToWrite } from '../safetensors.js';
import type { Doc, Example, Logger, Progress, Query, TrainingEvent } from '../types.js';
import type { BestMetric } from './checkpoint.js';
import { TrainingEvaluator, type Embedder } from './evaluator.js';
import { TrainLoop } from './loop.js';
import type { LossPlugin } from './loss.js';
import { LossSeam } from './seam.js';
import { validTripletShare } from './samplers.js';
import type { AdamWState, OptimizerHyper } from './optimizer-state.js';
import type { StepResult } from './engine.js';
import type { FullTrainingConfig } from './training-schema.js';
import type { EarlyStopRecord, Pruner } from './early-stopping.js';
import { fingerprintOf, preflight, RunPlan } from './plan.js';

/** What a training engine gives the shared loop: one model being fine-tuned, with its optimizer. */
export interface TrainingSession extends Embedder {
  /**
   * One optimizer update over `batches` (gradient accumulation: Σ loss/batches), the global
   * gradient norm, clipping when maxGradNorm > 0, AdamW at `lr`; `seeds` are the dropout seeds of
   * the batches. Throws NonFiniteLossError, leaving weights untouched, on a NaN/Inf loss or norm.
   */
  step(batches: Example[][], lr: number, maxGradNorm: number, seeds: number[]): StepResult | Promise<StepResult>;
  /** Current weights (and untouched extras) by weight-file name. */
  exportWeights(): Map<string, TensorToWrite>;
  importWeights(tensors: Map<string, { shape: number[]; data: Float32Array }>, source: string): void;
  /** AdamW state keyed by weight-file names (the same format for every engine). */
  exportOptimizer(): AdamWState;
  importOptimizer(state: AdamWState): void;
  readonly optimizer: OptimizerHyper;
  /** Frees the optimizer state (the model itself stays with its owner). */
  dispose?(): void;
}

export interface TrainerRequest {
  /**
   * Opens the engine's training session (AdamW with the config's learning rate and weight decay)
   * over the loss seam: the loss bound to the class labels of the examples and the GradCache
   * chunk size (training.mini_batch_size).
   */
  open(seam: LossSeam): TrainingSession | Promise<TrainingSession>;
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
  onEvent(event: TrainingEvent): void;
  logger: Logger;
  progress?: Progress;
  signal?: AbortSignal;
  /** Texts per forward pass when evaluating. */
  encodeBatchSize?: number;
  /** The model's truncate_dim: evaluations during training compare embeddings truncated to it. */
  truncateDim?: number;
  /** A sweep trial's stopping rule (sweep.stop). */
  prune?: Pruner;
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
  /** training.early_stopping stopped training before its last step. */
  earlyStop?: EarlyStopRecord;
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
  const plan = new RunPlan(cfg, items, req.loss.needs, seed);
  preflight(req, plan.sampler, plan.epoch(0), plan.labels);

  const stepper = await req.open(LossSeam.forExamples(req.loss, items, cfg.mini_batch_size));
  const evaluator = new TrainingEvaluator({ test: req.test, corpus: req.corpus, metrics: req.metrics, k: req.k, seed, batchSize: req.encodeBatchSize, ...(req.truncateDim !== undefined ? { truncateDim: req.truncateDim } : {}) });
  const loop = new TrainLoop({
    label: 'training',
    logPrefix: '',
    lrOption: 'training.learning_rate',
    learningRate: cfg.learning_rate,
    cfg,
    plan,
    seed,
    fingerprint: fingerprintOf(cfg, seed, items, req.loss.needs),
    primary: req.primary,
    checkpointDir: req.checkpointDir,
    optimizer: stepper.optimizer,
    onEvent: req.onEvent,
    logger: req.logger,
    signal: req.signal,
    step: (micro, lr, epoch, batchIdx) =>
      stepper.step(micro.map((b) => b.map((i) => items[i]!)), lr, cfg.max_grad_norm, micro.map((_, j) => dropoutSeed(seed, epoch, batchIdx + j))),
    evaluate: () => evaluator.evaluate(stepper),
    save: () => ({ weights: stepper.exportWeights(), optimizer: stepper.exportOptimizer() }),
    ...(req.prune ? { prune: req.prune } : {}),
  });

  let resumedFrom: number | undefined;
  if (req.resume) {
    const resumed = loop.resume((ck, dir) => {
      stepper.importWeights(ck.weights, dir);
      stepper.importOptimizer(ck.optimizer);
    });
    if (resumed) resumedFrom = loop.step;
  }

  const tripletShare = req.loss.needs === 'labelled' ? r6(validTripletShare(plan.epoch(loop.epoch), plan.labels)) : undefined;
  const bar = req.progress?.start('training', loop.totalSteps);
  try {
    await loop.run(bar);
    const chosen = loop.bestWeights();
    if (chosen) stepper.importWeights(chosen.weights, chosen.dir);
  } finally {
    bar?.done();
    stepper.dispose?.();
  }
  const { best, metrics } = loop;
  return {
    steps: loop.step,
    totalSteps: loop.totalSteps,
    epochs: loop.epochPos(),
    samples: loop.samples,
    trainSeconds: loop.trainSeconds,
    ...(best ? { best } : {}),
    ...(metrics ? { metrics } : {}),
    ...(resumedFrom !== undefined ? { resumedFrom } : {}),
    ...(loop.earlyStop ? { earlyStop: loop.earlyStop } : {}),
    info: {
      total_steps: loop.totalSteps,
      examples: n,
      batch_sampler: plan.sampler.kind,
      valid_triplet_share: tripletShare,
      warmup_steps: loop.schedule.warmupSteps,
      seed,
    },
  };
}
