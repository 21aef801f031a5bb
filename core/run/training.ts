/**
 * The training part of a run: `full` fine-tuning through the backend's train(), or an `adapter`
 * learned on top of the frozen base encoder (any backend); then the encoder of the tuned model.
 */
import { join } from 'node:path';
import { loadAdapterEncoder } from '../adapter/encoder.js';
import { trainAdapter } from '../adapter/train.js';
import type { ExperimentConfig } from '../config/types.js';
import { UserError } from '../errors.js';
import type { LossPlugin } from '../train/loss.js';
import type { BackendPlugin, DatasetData, Encoder, Examples, RunContext, RunSummary, SplitResult, TrainResult } from '../types.js';

export interface TrainingInput {
  config: ExperimentConfig;
  ctx: RunContext;
  resume: boolean;
  data: DatasetData;
  split: SplitResult;
  examples: Examples;
  backend: BackendPlugin;
  loss: unknown;
  /** The frozen base encoder (adapters only); the caller owns it. */
  baseEncoder?: Encoder;
  /** Training events, already in the trainer's shape ({type, step, …}). */
  onEvent(event: Record<string, unknown>): void;
}

/** Train as `training.method` says; the result's modelDir holds the model or the adapter. */
export async function train(input: TrainingInput): Promise<TrainResult> {
  const { config, ctx, split, data } = input;
  const common = {
    examples: input.examples,
    training: config.training,
    test: split.test,
    corpus: data.corpus,
    metrics: config.evaluate.metrics,
    k: config.evaluate.k,
    primary: config.evaluate.primary,
    checkpointDir: join(ctx.runDir, 'checkpoints'),
    resume: input.resume,
    onEvent: input.onEvent,
  };
  if (config.training.method === 'adapter') {
    if (!input.baseEncoder) throw new Error('adapter training needs the base encoder');
    return trainAdapter({
      ...common,
      encoder: input.baseEncoder,
      loss: input.loss as LossPlugin,
      outDir: join(ctx.runDir, 'adapter'),
      logger: ctx.logger,
      progress: ctx.progress,
      signal: ctx.signal,
      seed: config.seed,
      model: config.model,
    });
  }
  if (!input.backend.train) throw new UserError('E_CONFIG', `backend ${config.backend.type} cannot train`);
  return input.backend.train({ ...common, model: config.model, loss: input.loss, outDir: join(ctx.runDir, 'model') });
}

/**
 * The encoder of the tuned model: the adapter over a fresh base encoder, or the saved model
 * directory loaded by the backend. `loadBase` / `loadPath` load through the runner (timed, tracked).
 */
export async function tunedEncoder(
  config: ExperimentConfig,
  result: TrainResult,
  load: (spec: ExperimentConfig['model']) => Promise<Encoder>,
): Promise<Encoder> {
  if (config.training.method === 'adapter') return loadAdapterEncoder(await load(config.model), result.modelDir);
  const { id: _id, revision: _rev, bundled: _b, ...rest } = config.model;
  return load({ ...rest, path: result.modelDir });
}

export function trainingSummary(result: TrainResult): NonNullable<RunSummary['training']> {
  return {
    steps: result.steps,
    epochs: result.epochs,
    seconds: round(result.seconds, 3),
    samples_per_second: round(result.samplesPerSecond, 3),
    best_step: result.bestStep,
    model_dir: result.modelDir,
  };
}

/** One log line per evaluation during training: step, epoch and the test-split metrics that matter. */
export function describeTrainingEval(e: Record<string, unknown>, primary: string): string {
  const m = (e.metrics ?? {}) as Record<string, number>;
  const parts = [`step ${String(e.step)}`, `epoch ${Number(e.epoch ?? 0).toFixed(2)}`];
  if (m[primary] !== undefined) parts.push(`test ${primary} ${m[primary]!.toFixed(3)}`);
  if (m.triplet_accuracy !== undefined) parts.push(`triplet accuracy ${m.triplet_accuracy.toFixed(3)}`);
  return `  ${parts.join(', ')}`;
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
