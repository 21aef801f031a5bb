/**
 * Full fine-tuning as every training engine runs it (training.method full): the shared loop of
 * trainer.ts over the engine's TrainingSession, then the model saved in Hugging Face +
 * sentence-transformers layout (the engine's final or best weights), the optional ONNX export
 * (a failed export warns and never loses the saved model), and the TrainResult.
 */
import { join } from 'node:path';
import type { MetricName } from '../../core/config/types.js';
import { exportBertOnnx } from '../export/onnx.js';
import type { ModelLayout } from '../model/layout.js';
import type { TensorToWrite } from '../../core/safetensors.js';
import type { RunContext, TrainRequest, TrainResult } from '../../core/types.js';
import type { LossSeam } from '../../core/train/seam.js';
import { saveSentenceTransformer } from '../model/model-dir.js';
import { runTraining, type TrainingSession } from '../../core/train/trainer.js';
import { readTrainingConfig, type FullTrainingConfig } from '../../core/train/training-schema.js';

export interface FullTrainingEngine {
  layout: ModelLayout;
  /** Facts about how the engine runs (backend, device, threads…), for env.json. */
  facts: Record<string, unknown>;
  /** Texts per forward pass when evaluating. */
  encodeBatchSize: number;
  /** The engine's training session; `seam` is the run's loss, bound to its labels (core/train/seam.ts). */
  open(seam: LossSeam, cfg: FullTrainingConfig): TrainingSession | Promise<TrainingSession>;
  /** The weights to save (after training: the final or best ones). */
  exportTensors(): Map<string, TensorToWrite>;
}

export async function trainFull(req: TrainRequest, ctx: RunContext, engine: FullTrainingEngine): Promise<TrainResult> {
  const t0 = performance.now();
  const training = readTrainingConfig(req.training);
  const loss = req.loss.reference;
  const out = await runTraining({
    open: (seam) => engine.open(seam, training),
    loss,
    examples: req.examples.items,
    training,
    seed: ctx.seed,
    test: req.test,
    corpus: req.corpus,
    metrics: req.metrics as MetricName[],
    k: req.k,
    primary: req.primary,
    checkpointDir: req.checkpointDir,
    resume: req.resume,
    onEvent: (e) => req.onEvent(e),
    logger: ctx.logger,
    progress: ctx.progress,
    signal: ctx.signal,
    encodeBatchSize: engine.encodeBatchSize,
    ...(engine.layout.truncateDim !== undefined ? { truncateDim: engine.layout.truncateDim } : {}),
    ...(req.prune ? { prune: req.prune } : {}),
  });
  saveSentenceTransformer(engine.exportTensors(), engine.layout, req.outDir);
  let onnx: string | undefined;
  let onnxError: string | undefined;
  if (training.export_onnx) {
    try {
      await exportBertOnnx(req.outDir, join(req.outDir, 'onnx', 'model.onnx'));
      onnx = join(req.outDir, 'onnx', 'model.onnx');
    } catch (e) {
      onnxError = (e as Error).message;
      ctx.logger.warn(`the fine-tuned model is saved in ${req.outDir}, but its ONNX export failed: ${onnxError}`);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    modelDir: req.outDir,
    steps: out.steps,
    epochs: out.epochs,
    seconds,
    samplesPerSecond: out.trainSeconds > 0 ? out.samples / out.trainSeconds : 0,
    ...(out.best ? { bestStep: out.best.step } : {}),
    ...(out.earlyStop ? { earlyStop: out.earlyStop } : {}),
    info: {
      ...engine.facts,
      ...out.info,
      steps: out.steps,
      samples: out.samples,
      train_seconds: out.trainSeconds,
      ...(out.best ? { best: out.best } : {}),
      ...(out.resumedFrom !== undefined ? { resumed_from_step: out.resumedFrom } : {}),
      ...(onnx ? { onnx_file: onnx } : {}),
      ...(onnxError ? { onnx_error: onnxError } : {}),
    },
  };
}
