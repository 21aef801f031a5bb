/**
 * The end of adapter training: save the chosen weights as <outDir>/adapter.safetensors +
 * adapter.json, append them to the base ONNX model when the base is served by `ort` (and
 * export_onnx is on), and describe the run as a TrainResult.
 */
import { join } from 'node:path';
import type { BestMetric } from '../../core/train/checkpoint.js';
import type { TrainResult } from '../../core/types.js';
import type { AdapterWeights } from './model.js';
import { exportAdapterOnnx, onnxBaseOf } from './onnx.js';
import { saveAdapter } from './save.js';
import type { AdapterOptions } from '../../core/train/adapter-schema.js';
import type { AdapterTrainRequest } from './request.js';

export interface FinishInput {
  req: AdapterTrainRequest;
  options: AdapterOptions;
  /** Peak learning rate it was trained with (training.learning_rate). */
  learningRate: number;
  exportOnnx: boolean;
  /** The adapter to keep (the best evaluated one under load_best, else the last). */
  weights: AdapterWeights;
  best?: BestMetric;
  metrics?: Record<string, number>;
  step: number;
  /** Position as a fractional epoch. */
  epochs: number;
  samples: number;
  trainSeconds: number;
  /** performance.now() when training started. */
  started: number;
  /** Trainer facts for TrainResult.info. */
  info: Record<string, unknown>;
}

const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;

export async function finishAdapter(x: FinishInput): Promise<TrainResult> {
  const { req, options: ad, weights, best } = x;
  const onnxBase = x.exportOnnx ? onnxBaseOf(req.encoder) : undefined;
  const onnxRel = onnxBase ? 'onnx/model.onnx' : undefined;
  saveAdapter(req.outDir, weights, {
    apply_to: ad.apply_to,
    base_model: { ...(req.model ? { spec: req.model } : {}), encoder: req.encoder.info },
    created: new Date().toISOString(),
    ...(onnxRel ? { onnx: onnxRel } : {}),
    training: { steps: x.step, loss: req.loss.needs, learning_rate: x.learningRate, ...(best ? { best } : {}), ...(x.metrics ? { metrics: x.metrics } : {}) },
  });
  if (onnxBase) await exportAdapterOnnx(onnxBase, weights, ad.apply_to, req.outDir);
  return {
    modelDir: req.outDir,
    steps: x.step,
    epochs: x.epochs,
    seconds: (performance.now() - x.started) / 1000,
    samplesPerSecond: x.trainSeconds > 0 ? x.samples / x.trainSeconds : 0,
    ...(best ? { bestStep: best.step } : {}),
    info: {
      method: 'adapter',
      adapter: ad.kind,
      apply_to: ad.apply_to,
      dim: weights.dim,
      ...(ad.kind === 'mlp' ? { hidden: ad.hidden } : {}),
      learning_rate: x.learningRate,
      ...x.info,
      train_seconds: r6(x.trainSeconds),
      steps_per_second: x.trainSeconds > 0 ? r6(x.step / x.trainSeconds) : 0,
      ...(onnxRel ? { onnx_file: join(req.outDir, onnxRel) } : {}),
    },
  };
}
