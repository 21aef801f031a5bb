/**
 * The trainer's building blocks, shared by the training loop and the trajectory parity test:
 * - TrainStep.lossAndGrads: one batch → the loss columns (textColumns by the loss's `needs`),
 *   each column tokenized and encoded in training mode (anchors with the query prompt, the other
 *   columns with the document prompt), pooled and normalized as the model's layout says, the
 *   loss, and tf.variableGrads over every trainable weight;
 * - TrainStep.step: one optimizer update from one or more batches (gradient accumulation: each
 *   loss divided by the number of batches, gradients summed), the global gradient norm, optional
 *   clipping (max_grad_norm > 0), the NaN/Inf guard, then AdamW with the given learning rate;
 * - createOptimizer (Hugging Face Trainer semantics: no weight decay on biases and LayerNorm),
 *   and the transfer of weights and optimizer state to and from checkpoints (by weight file name).
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorToWrite } from '../../../core/safetensors.js';
import type { TfjsSentenceModel } from './sentence.js';
import type { Example } from '../../../core/types.js';
import { clipCoef, globalNorm } from '../../../core/train/clip.js';
import { textColumns, type LossBatch, type LossPlugin } from '../../../core/train/loss.js';
import { AdamW, type AdamWState } from '../../../core/train/optim.js';
import { hfDecay, NonFiniteLossError, type StepResult } from '../../../core/train/engine.js';

export function createOptimizer(model: TfjsSentenceModel, lr: number, weightDecay: number): AdamW {
  return new AdamW(model.trainableVariables, { lr, weightDecay, decay: hfDecay, rowSparse: (n) => /word_embeddings\.weight$/.test(n) });
}

/** The tfjs engine's TrainingSession (core/train/trainer.ts): a TfjsSentenceModel, its loss and AdamW. */
export class TrainStep {
  /** Class label → id (labelled losses); fixed up front so ids do not depend on batch order. */
  readonly labelIds: Map<string, number>;

  constructor(
    readonly model: TfjsSentenceModel,
    readonly loss: LossPlugin,
    readonly optimizer: AdamW,
    labels: Iterable<string> = [],
  ) {
    this.labelIds = new Map([...new Set(labels)].sort().map((l, i) => [l, i]));
  }

  /** Loss of one batch (unscaled) and the gradients of `scale`·loss; the caller disposes the gradients. */
  lossAndGrads(items: Example[], scale = 1, seed = 0): { loss: number; grads: tf.NamedTensorMap } {
    const cols = textColumns(this.loss.needs, items, this.labelIds);
    let column = 0;
    const embed = (texts: string[], kind: 'query' | 'document'): tf.Tensor2D =>
      this.model.forward(this.model.tokenize(texts, kind), { training: true, seed: (seed + 0x9e3779b9 * column++) >>> 0 });
    const { value, grads } = tf.variableGrads(() => {
      const batch: LossBatch = { anchor: embed(cols.anchor, 'query') };
      if (cols.positive) batch.positive = embed(cols.positive, 'document');
      if (cols.negative) batch.negative = embed(cols.negative, 'document');
      if (cols.labels) batch.labels = tf.tensor1d(cols.labels, 'int32');
      if (cols.pairLabels) batch.pairLabels = tf.tensor1d(cols.pairLabels, 'float32');
      const l = this.loss.compute(batch);
      return scale === 1 ? l : tf.mul(l, scale);
    }, this.model.trainableVariables);
    const scaled = value.dataSync()[0]!;
    value.dispose();
    return { loss: scale === 1 ? scaled : scaled / scale, grads };
  }

  /**
   * One optimizer update from `batches` with learning rate `lr`. Throws NonFiniteLossError (and
   * leaves weights and optimizer untouched) when the loss or the gradient norm is NaN or infinite.
   */
  step(batches: Example[][], lr: number, maxGradNorm = 0, seeds: number[] = []): StepResult {
    if (batches.length === 0) throw new Error('TrainStep.step: no batches');
    const scale = 1 / batches.length;
    let acc: tf.NamedTensorMap | undefined;
    let lossSum = 0;
    try {
      batches.forEach((items, i) => {
        const { loss, grads } = this.lossAndGrads(items, scale, seeds[i] ?? i);
        lossSum += loss;
        if (!acc) {
          acc = grads;
          return;
        }
        const sum: tf.NamedTensorMap = {};
        for (const [k, g] of Object.entries(grads)) sum[k] = acc[k] ? tf.add(acc[k]!, g) : g.clone();
        tf.dispose([...Object.values(acc), ...Object.values(grads)]);
        acc = sum;
      });
      const loss = lossSum / batches.length;
      const gradNorm = globalNorm(acc!);
      if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) throw new NonFiniteLossError(loss, gradNorm);
      // Clipping (as clipGradNorm: every gradient times the coefficient) is fused into the update.
      this.optimizer.step(acc!, lr, maxGradNorm > 0 ? clipCoef(gradNorm, maxGradNorm) : 1);
      return { loss, gradNorm };
    } finally {
      if (acc) tf.dispose(Object.values(acc));
    }
  }

  /** Inference embeddings of the current weights (evaluation during training). */
  embed(texts: string[], kind?: 'query' | 'document', batchSize?: number): Float32Array[] {
    return this.model.embed(texts, kind, batchSize);
  }

  dispose(): void {
    this.optimizer.dispose();
  }

  /** Variable name → weight file name. */
  private fileNames(): Map<string, string> {
    return new Map([...this.model.bert.weights].map(([file, v]) => [v.name, file]));
  }

  /** Current weights by file name (untouched extras such as the pooler included). */
  exportWeights(): Map<string, TensorToWrite> {
    return this.model.bert.exportTensors();
  }

  /** Assign weights read from a checkpoint (names as in the weights file). */
  importWeights(tensors: Map<string, { shape: number[]; data: Float32Array }>, source: string): void {
    for (const [file, v] of this.model.bert.weights) {
      const t = tensors.get(file);
      if (!t || t.shape.join(',') !== v.shape.join(',')) throw new Error(`${source}: weight ${file} is missing or has another shape`);
      tf.tidy(() => v.assign(tf.tensor(t.data, v.shape, 'float32')));
    }
  }

  /** Optimizer state keyed by weight file names. */
  exportOptimizer(): AdamWState {
    const names = this.fileNames();
    return { params: this.optimizer.getState().params.map((p) => ({ ...p, name: names.get(p.name) ?? p.name })) };
  }

  importOptimizer(state: AdamWState): void {
    const vars = new Map([...this.model.bert.weights].map(([file, v]) => [file, v.name]));
    this.optimizer.setState({ params: state.params.map((p) => ({ ...p, name: vars.get(p.name) ?? p.name })) });
  }
}
