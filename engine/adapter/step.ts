/**
 * One optimizer update of adapter training through the shared loss seam (core/train/seam.ts): per
 * (micro-)batch the seam assembles the loss columns; this trainer looks up the cached base vectors
 * of their texts, maps the query side (and the document side when apply_to is `both`) through the
 * adapter and L2-normalises both sides; the seam gives the loss (divided by the number of
 * accumulated batches) and ∂embeddings, backpropagated here into the adapter's weights. Then the
 * gradients are summed, clipped by global norm, and AdamW steps. A non-finite loss or gradient norm
 * throws NonFiniteLossError and leaves weights and optimizer untouched.
 */
import * as tf from '@tensorflow/tfjs';
import { clipGradNorm, globalNorm } from '../train/clip.js';
import { normalizeRows } from '../../core/train/loss.js';
import type { AdamW } from '../train/optim.js';
import { NonFiniteLossError } from '../../core/train/engine.js';
import type { ColumnTrainer, GradFn, LossSeam, SeededColumn } from '../../core/train/seam.js';
import type { Example } from '../../core/types.js';
import type { TfAdapter } from './model.js';
import { addGrads, backpropColumns } from '../train/tape.js';

export interface AdapterStepData {
  /** Every training example (batches are indices into it). */
  items: Example[];
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

/** The adapter as the seam's ColumnTrainer: a column's embeddings are its cached vectors, mapped and normalised. */
class AdapterColumns implements ColumnTrainer {
  acc: tf.NamedTensorMap = {};

  constructor(
    private readonly model: TfAdapter,
    private readonly data: AdapterStepData,
  ) {}

  private embed(col: SeededColumn): tf.Tensor2D {
    const dim = this.model.weights.dim;
    const vecs = col.kind === 'query' ? this.data.query : this.data.document;
    const m = new Float32Array(col.texts.length * dim);
    col.texts.forEach((t, r) => m.set(vecs.get(t)!, r * dim));
    const x = tf.tensor2d(m, [col.texts.length, dim]);
    return normalizeRows(col.kind === 'query' || this.data.both ? this.model.apply(x) : x);
  }

  embedColumns(columns: SeededColumn[]): Float32Array[] {
    return columns.map((col) => tf.tidy(() => Float32Array.from(this.embed(col).dataSync() as Float32Array)));
  }

  trainColumns(columns: SeededColumn[], grad: GradFn): void {
    this.acc = addGrads(this.acc, backpropColumns(this.model.variables, (col) => this.embed(col), columns, grad));
  }
}

export async function adapterStep(
  model: TfAdapter,
  opt: AdamW,
  seam: LossSeam,
  data: AdapterStepData,
  batches: number[][],
  lr: number,
  maxGradNorm: number,
): Promise<AdapterStepResult> {
  const trainer = new AdapterColumns(model, data);
  let lossTotal = 0;
  try {
    for (const idx of batches) {
      lossTotal += (await seam.backward(trainer, idx.map((i) => data.items[i]!), 0, 1 / batches.length)) / batches.length;
    }
    let sum = trainer.acc;
    const gradNorm = globalNorm(sum);
    if (!Number.isFinite(lossTotal) || !Number.isFinite(gradNorm)) throw new NonFiniteLossError(lossTotal, gradNorm);
    if (maxGradNorm > 0) {
      const clipped = clipGradNorm(sum, maxGradNorm);
      tf.dispose(Object.values(sum));
      sum = trainer.acc = clipped.grads;
    }
    opt.step(sum, lr);
    return { loss: lossTotal, gradNorm };
  } finally {
    tf.dispose(Object.values(trainer.acc));
  }
}
