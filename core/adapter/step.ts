/**
 * One optimizer update of adapter training: for each (micro-)batch, look up the cached base
 * vectors of its texts, map the query side (and the document side when apply_to is `both`)
 * through the adapter, L2-normalise both sides, compute the loss (divided by the number of
 * accumulated batches) and its gradients; sum, clip by global norm, then AdamW. A non-finite loss
 * or gradient norm throws NonFiniteLossError and leaves weights and optimizer untouched.
 */
import * as tf from '@tensorflow/tfjs';
import { clipGradNorm, globalNorm } from '../train/clip.js';
import { normalizeRows, type LossBatch, type LossPlugin, type TextColumns } from '../train/loss.js';
import type { AdamW } from '../train/optim.js';
import { NonFiniteLossError } from '../train/engine.js';
import type { TfAdapter } from './model.js';

export interface AdapterStepData {
  /** The loss's text columns for every training example. */
  cols: TextColumns;
  /** Base vectors of query-side texts (anchors) and document-side texts (positives, negatives). */
  query: Map<string, Float32Array>;
  document: Map<string, Float32Array>;
  /** Map the document side too. */
  both: boolean;
}

export interface AdapterStepResult {
  loss: number;
  gradNorm: number;
}

export function adapterStep(
  model: TfAdapter,
  opt: AdamW,
  loss: LossPlugin,
  data: AdapterStepData,
  batches: number[][],
  lr: number,
  maxGradNorm: number,
): AdapterStepResult {
  const dim = model.weights.dim;
  const { cols } = data;
  const matrix = (texts: string[], vecs: Map<string, Float32Array>, idx: number[]): tf.Tensor2D => {
    const m = new Float32Array(idx.length * dim);
    idx.forEach((i, r) => m.set(vecs.get(texts[i]!)!, r * dim));
    return tf.tensor2d(m, [idx.length, dim]);
  };
  const side = (x: tf.Tensor2D, adapt: boolean) => normalizeRows(adapt ? model.apply(x) : x);

  let sum: Record<string, tf.Tensor> = {};
  let lossTotal = 0;
  try {
    for (const idx of batches) {
      const { value, grads } = tf.variableGrads(
        () =>
          tf.tidy(() => {
            const batch: LossBatch = { anchor: side(matrix(cols.anchor, data.query, idx), true) };
            if (cols.positive) batch.positive = side(matrix(cols.positive, data.document, idx), data.both);
            if (cols.negative) batch.negative = side(matrix(cols.negative, data.document, idx), data.both);
            if (cols.labels) batch.labels = tf.tensor1d(idx.map((i) => cols.labels![i]!), 'int32');
            if (cols.pairLabels) batch.pairLabels = tf.tensor1d(idx.map((i) => cols.pairLabels![i]!), 'float32');
            const l = loss.compute(batch);
            return (batches.length > 1 ? tf.div(l, batches.length) : l) as tf.Scalar;
          }),
        model.variables,
      );
      lossTotal += value.dataSync()[0]!;
      value.dispose();
      const next: Record<string, tf.Tensor> = {};
      for (const [k, g] of Object.entries(grads)) next[k] = sum[k] ? tf.add(sum[k]!, g) : g;
      for (const [k, g] of Object.entries(grads)) if (sum[k]) tf.dispose([sum[k]!, g]);
      sum = next;
    }
    const gradNorm = globalNorm(sum);
    if (!Number.isFinite(lossTotal) || !Number.isFinite(gradNorm)) throw new NonFiniteLossError(lossTotal, gradNorm);
    if (maxGradNorm > 0) {
      const clipped = clipGradNorm(sum, maxGradNorm);
      tf.dispose(Object.values(sum));
      sum = clipped.grads;
    }
    opt.step(sum, lr);
    return { loss: lossTotal, gradNorm };
  } finally {
    tf.dispose(Object.values(sum));
  }
}
