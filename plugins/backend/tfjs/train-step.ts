/**
 * The trainer's building blocks, shared by the training loop and the trajectory parity test:
 * - TrainStep.trainColumns / embedColumns: what the shared loss seam (core/train/seam.ts) asks of
 *   an engine. trainColumns encodes each column in training mode (anchors with the query prompt,
 *   the others with the document prompt) on one tape (engine/train/tape.ts), hands the embeddings to the seam
 *   and backpropagates the ∂embeddings it returns (the gradient of Σ ⟨embedding, ∂embedding⟩)
 *   into every trainable weight, adding to the step's accumulators;
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
import { clipCoef, globalNorm } from '../../../engine/train/clip.js';
import type { ColumnTrainer, GradFn, LossSeam, SeededColumn } from '../../../core/train/seam.js';
import { addGrads, backpropColumns } from '../../../engine/train/tape.js';
import { AdamW, type AdamWState } from '../../../engine/train/optim.js';
import { hfDecay, NonFiniteLossError, type StepResult } from '../../../core/train/engine.js';

export function createOptimizer(model: TfjsSentenceModel, lr: number, weightDecay: number): AdamW {
  return new AdamW(model.trainableVariables, { lr, weightDecay, decay: hfDecay, rowSparse: (n) => /word_embeddings\.weight$/.test(n) });
}

/** The tfjs engine's TrainingSession (core/train/trainer.ts): a TfjsSentenceModel, its loss and AdamW. */
export class TrainStep implements ColumnTrainer {
  /** Gradients summed over the trainColumns calls of the current step. */
  private acc: tf.NamedTensorMap | undefined;

  constructor(
    readonly model: TfjsSentenceModel,
    /** The loss, bound to the run's labels (core/train/seam.ts). */
    readonly seam: LossSeam,
    readonly optimizer: AdamW,
  ) {}

  private forward(col: SeededColumn): tf.Tensor2D {
    return this.model.forward(this.model.tokenize(col.texts, col.kind), { training: true, seed: col.seed });
  }

  /** ColumnTrainer: training-mode embeddings, nothing kept (GradCache's first pass). */
  embedColumns(columns: SeededColumn[]): Float32Array[] {
    return columns.map((col) => {
      const e = this.forward(col);
      const data = Float32Array.from(e.dataSync() as Float32Array);
      e.dispose();
      return data;
    });
  }

  /** ColumnTrainer: one tape over the columns' forward passes, backpropagated from the seam's ∂embeddings. */
  trainColumns(columns: SeededColumn[], grad: GradFn): void {
    this.acc = addGrads(this.acc, backpropColumns(this.model.trainableVariables, (col) => this.forward(col), columns, grad));
  }

  /** Loss of one batch (unscaled) and the gradients of `scale`·loss; the caller disposes the gradients. */
  async lossAndGrads(items: Example[], scale = 1, seed = 0): Promise<{ loss: number; grads: tf.NamedTensorMap }> {
    this.clearGrads();
    const loss = await this.seam.backward(this, items, seed, scale);
    const grads = this.acc ?? {};
    this.acc = undefined;
    return { loss, grads };
  }

  private clearGrads(): void {
    if (this.acc) tf.dispose(Object.values(this.acc));
    this.acc = undefined;
  }

  /**
   * One optimizer update from `batches` with learning rate `lr`. Throws NonFiniteLossError (and
   * leaves weights and optimizer untouched) when the loss or the gradient norm is NaN or infinite.
   */
  async step(batches: Example[][], lr: number, maxGradNorm = 0, seeds: number[] = []): Promise<StepResult> {
    if (batches.length === 0) throw new Error('TrainStep.step: no batches');
    const scale = 1 / batches.length;
    let lossSum = 0;
    this.clearGrads();
    try {
      for (let i = 0; i < batches.length; i++) lossSum += await this.seam.backward(this, batches[i]!, seeds[i] ?? i, scale);
      const acc = this.acc ?? {};
      const loss = lossSum / batches.length;
      const gradNorm = globalNorm(acc);
      if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) throw new NonFiniteLossError(loss, gradNorm);
      // Clipping (as clipGradNorm: every gradient times the coefficient) is fused into the update.
      this.optimizer.step(acc, lr, maxGradNorm > 0 ? clipCoef(gradNorm, maxGradNorm) : 1);
      return { loss, gradNorm };
    } finally {
      this.clearGrads();
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
