/**
 * The training part of a run, as the method's row of core/train/methods.ts says: how it trains
 * (`full` through the backend's training engine, `adapter` on top of the frozen base encoder),
 * then the encoder of the tuned model; and the training lines of the summary and log.
 */
import type { ExperimentConfig } from '../config/types.js';
import { methodOf, type MethodInput } from '../train/methods.js';
import type { Encoder, RunSummary, TrainResult } from '../types.js';

export type TrainingInput = MethodInput;

/** Train as `training.method` says (core/train/methods.ts); the result's modelDir holds the model or the adapter. */
export async function train(input: MethodInput): Promise<TrainResult> {
  const method = methodOf(input.config);
  if (!method.run) throw new Error(`training.method ${input.config.training.method} does not train`);
  return method.run(input);
}

/**
 * The encoder of the tuned model (the adapter over a fresh base encoder, or the saved model
 * directory loaded by the backend). `load` loads through the runner (timed, tracked).
 */
export async function tunedEncoder(config: ExperimentConfig, result: TrainResult, load: (spec: ExperimentConfig['model']) => Promise<Encoder>): Promise<Encoder> {
  const method = methodOf(config);
  if (!method.tunedEncoder) throw new Error(`training.method ${config.training.method} produces no model`);
  return method.tunedEncoder(config, result, load);
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
