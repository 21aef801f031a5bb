/**
 * The loss seam: the one place where a loss plugin meets training, shared by every engine and by
 * adapter training.
 *
 *   examples ──lossColumns──▶ text columns + values
 *   engine.trainColumns(columns, grad)          (the engine embeds, keeping what backward needs)
 *     grad(embeddings) = lossGradients(...)     (host [batch, dim] arrays in, loss and ∂loss/∂column out)
 *   engine backpropagates ∂embeddings into its weight gradients
 *
 * Engines only embed (pooled and, when the model normalizes, Normalized: what sentence-transformers
 * feeds its losses) and backpropagate given ∂embeddings; they never see a loss plugin.
 *
 * A loss with a guide model (LossPlugin.guide, e.g. `gist`) also gets the guide's embeddings of each
 * column (batch.guide), looked up by text in the vectors the runner computed before training.
 *
 * Cached batches (GradCache, Gao et al. 2021; sentence-transformers' Cached* losses) when
 * `miniBatchSize` is set and smaller than the batch: every column is embedded in chunks of that
 * many rows without keeping activations, the loss and ∂embeddings are computed once on the whole
 * batch, then each chunk is embedded again with activations and backpropagated from its slice of
 * ∂embeddings. Value and weight gradients equal the plain step (up to float rounding; with dropout
 * the chunks draw their own masks, the same in both passes); peak memory is that of one chunk.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Example } from '../types.js';
import { lossColumns, type ColumnRole, type ColumnValues, type TextColumn } from './columns.js';
import type { GuideVectors, LossBatch, LossGuide, LossPlugin } from './loss.js';

/** A text column with the dropout seed of its forward pass. */
export interface SeededColumn extends TextColumn {
  seed: number;
}

/** ∂(scaled loss)/∂embeddings of each column, given the columns' embeddings ([rows·dim] each). */
export type GradFn = (embeddings: Float32Array[]) => Float32Array[];

/** What an engine (or adapter training) implements for the seam. */
export interface ColumnTrainer {
  /** Training-mode embeddings of each column, [rows·dim] row-major; nothing kept for backward. */
  embedColumns(columns: SeededColumn[]): Promise<Float32Array[]> | Float32Array[];
  /**
   * Embeds the columns in training mode keeping what backward needs, calls `grad` once with their
   * embeddings, and adds the weight gradients of Σ_c ⟨embedding_c, grad_c⟩ to its accumulators.
   */
  trainColumns(columns: SeededColumn[], grad: GradFn): Promise<void> | void;
}

/** Seed of column `c` of a batch with seed `seed` (column 0 keeps the batch's seed). */
export const columnSeed = (seed: number, c: number): number => (seed + 0x9e3779b9 * c) >>> 0;

/** Seed of chunk `k` of a column with seed `seed` (chunk 0 keeps the column's seed). */
export const chunkSeed = (seed: number, k: number): number => (k === 0 ? seed : (Math.imul(seed ^ 0x85ebca6b, 0x27d4eb2d) + k * 0x165667b1) >>> 0);

/**
 * The loss of one batch of embeddings and its gradient at every column: `embeddings[c]` is column
 * c ([rows·dim], after pooling and Normalize), `roles[c]` what it is. The loss is multiplied by
 * `scale` before differentiating (gradient accumulation); the value returned is unscaled. A
 * column the loss does not read gets a zero gradient.
 */
export function lossGradients(
  loss: LossPlugin,
  roles: readonly ColumnRole[],
  embeddings: readonly Float32Array[],
  rows: number,
  values: ColumnValues,
  scale = 1,
): { loss: number; grads: Float32Array[] } {
  if (embeddings.length !== roles.length) throw new Error(`lossGradients: ${embeddings.length} embedding columns for ${roles.length} roles`);
  if (rows <= 0) throw new Error('lossGradients: an empty batch');
  const dim = embeddings[0]!.length / rows;
  return tf.tidy(() => {
    const xs = embeddings.map((e, c) => {
      if (e.length !== rows * dim) throw new Error(`lossGradients: column ${c} has ${e.length} values, expected ${rows}×${dim}`);
      return tf.tensor2d(e, [rows, dim]);
    });
    const f = (): tf.Scalar => {
      const batch = lossBatch(roles, xs, values);
      let l: tf.Scalar;
      try {
        l = loss.compute(batch);
      } catch (e) {
        throw new Error(`the loss's compute() failed on a batch of ${rows} example${rows === 1 ? '' : 's'} (columns: ${roles.join(', ')}): ${(e as Error).message}`, { cause: e });
      }
      const t = l as tf.Tensor | undefined;
      if (!t || typeof t.rank !== 'number' || t.rank !== 0) {
        const shape = t && Array.isArray(t.shape) ? `a tensor of shape [${t.shape.join(', ')}]` : typeof l;
        throw new Error(`the loss's compute() returned ${shape}; it must return a scalar (tf.Scalar), e.g. with tf.mean(...)`);
      }
      return scale === 1 ? l : tf.mul(l, scale);
    };
    // allowNoGradients: a column the loss does not read gets no gradient (zero), not an error.
    const { value, grads } = tf.engine().gradients(f, xs, undefined, true);
    const v = value.dataSync()[0]!;
    return {
      loss: scale === 1 ? v : v / scale,
      grads: xs.map((_, c) => (grads[c] ? Float32Array.from(grads[c]!.dataSync() as Float32Array) : new Float32Array(rows * dim))),
    };
  });
}

/** The LossBatch of embedding tensors by role, and the values as tensors. */
export function lossBatch(roles: readonly ColumnRole[], xs: tf.Tensor2D[], values: ColumnValues): LossBatch {
  const at = (role: ColumnRole): tf.Tensor2D[] => xs.filter((_, c) => roles[c] === role);
  const batch: LossBatch = { anchor: at('anchor')[0]! };
  const positive = at('positive')[0];
  if (positive) batch.positive = positive;
  const negatives = at('negative');
  if (negatives.length > 0) {
    batch.negatives = negatives;
    batch.negative = negatives[0];
  }
  if (values.labels) batch.labels = tf.tensor1d(values.labels, 'int32');
  if (values.pairLabels) batch.pairLabels = tf.tensor1d(values.pairLabels, 'float32');
  if (values.scores) batch.scores = tf.tensor1d(values.scores, 'float32');
  if (values.teacher) batch.teacher = tf.tensor2d(values.teacher, [values.teacher.length, values.teacher[0]!.length], 'float32');
  if (values.guide) {
    const { dim, columns } = values.guide;
    const g = columns.map((v) => tf.tensor2d(v, [v.length / dim, dim]));
    const guideAt = (role: ColumnRole): tf.Tensor2D[] => g.filter((_, c) => roles[c] === role);
    batch.guide = { anchor: guideAt('anchor')[0]! };
    const gp = guideAt('positive')[0];
    if (gp) batch.guide.positive = gp;
    const gn = guideAt('negative');
    if (gn.length > 0) {
      batch.guide.negatives = gn;
      batch.guide.negative = gn[0];
    }
  }
  return batch;
}

/**
 * The guide's embeddings of each text column ([rows·dim] each, in column order), looked up by text
 * and kind in the vectors the runner computed before training.
 */
export function guideValues(guide: LossGuide, columns: readonly TextColumn[]): { dim: number; columns: Float32Array[] } {
  const vectors: GuideVectors | undefined = guide.vectors;
  if (!vectors) throw new Error(`the guide model's embeddings (${guide.at}) were not computed before training`);
  const { dim } = vectors;
  return {
    dim,
    columns: columns.map((col) => {
      const table = vectors[col.kind];
      const out = new Float32Array(col.texts.length * dim);
      col.texts.forEach((t, r) => {
        const v = table.get(t);
        if (!v) throw new Error(`the guide model (${guide.at}) has no ${col.kind} embedding of the ${col.role} text "${t.length > 60 ? `${t.slice(0, 57)}...` : t}"`);
        out.set(v, r * dim);
      });
      return out;
    }),
  };
}

/** Row-major chunks of one column, in order, as one array. */
function concatRows(parts: Float32Array[]): Float32Array {
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

/**
 * A loss plugin bound to a run: the label ids of label-based losses (fixed up front so ids do not
 * depend on batch order) and the GradCache chunk size. Engines call `backward` once per batch.
 */
export class LossSeam {
  /** Class label → id (labelled losses). */
  readonly labelIds: Map<string, number>;

  constructor(
    readonly loss: LossPlugin,
    labels: Iterable<string> = [],
    /** training.mini_batch_size: 0 or ≥ the batch size = no caching. */
    readonly miniBatchSize = 0,
  ) {
    this.labelIds = new Map([...new Set(labels)].sort().map((l, i) => [l, i]));
  }

  /**
   * The seam of a training run: the loss over `examples` (their class labels), cached by
   * `miniBatchSize` (training.mini_batch_size) when set, else by the loss's own `miniBatchSize`
   * (a cached loss, e.g. cached-multiple-negatives-ranking's mini_batch_size) when it has one.
   */
  static forExamples(loss: LossPlugin, examples: readonly Example[], miniBatchSize = 0): LossSeam {
    const own = (loss as LossPlugin & { miniBatchSize?: unknown }).miniBatchSize;
    const mini = miniBatchSize || (typeof own === 'number' ? own : 0);
    return new LossSeam(loss, examples.flatMap((e) => (e.label === undefined ? [] : [e.label])), mini);
  }

  /**
   * Adds the weight gradients of `scale`·loss of one batch to the trainer's accumulators and
   * returns the batch's (unscaled) loss. `seed` seeds the dropout masks of its forward passes.
   */
  async backward(trainer: ColumnTrainer, items: Example[], seed: number, scale = 1): Promise<number> {
    const { rows, columns, values } = lossColumns(this.loss.needs, items, this.labelIds);
    if (this.loss.guide) values.guide = guideValues(this.loss.guide, columns);
    const roles = columns.map((c) => c.role);
    const seeded: SeededColumn[] = columns.map((c, i) => ({ ...c, seed: columnSeed(seed, i) }));
    const mini = this.miniBatchSize;
    if (!(mini > 0 && mini < rows)) {
      let value = Number.NaN;
      await trainer.trainColumns(seeded, (embs) => {
        const r = lossGradients(this.loss, roles, embs, rows, values, scale);
        value = r.loss;
        return r.grads;
      });
      return value;
    }
    // GradCache: 1. embed every column chunk by chunk, keeping nothing.
    const chunks: Array<[number, number]> = [];
    for (let from = 0; from < rows; from += mini) chunks.push([from, Math.min(rows, from + mini)]);
    const chunkOf = (col: SeededColumn, k: number): SeededColumn => ({ ...col, texts: col.texts.slice(chunks[k]![0], chunks[k]![1]), seed: chunkSeed(col.seed, k) });
    const embeddings: Float32Array[] = [];
    for (const col of seeded) {
      const parts: Float32Array[] = [];
      for (let k = 0; k < chunks.length; k++) parts.push((await trainer.embedColumns([chunkOf(col, k)]))[0]!);
      embeddings.push(concatRows(parts));
    }
    // 2. the loss and ∂embeddings on the whole batch.
    const { loss, grads } = lossGradients(this.loss, roles, embeddings, rows, values, scale);
    const dim = embeddings[0]!.length / rows;
    // 3. each chunk again, with activations, backpropagated from its slice of ∂embeddings.
    for (let c = 0; c < seeded.length; c++) {
      for (let k = 0; k < chunks.length; k++) {
        const g = grads[c]!.subarray(chunks[k]![0] * dim, chunks[k]![1] * dim);
        await trainer.trainColumns([chunkOf(seeded[c]!, k)], () => [g]);
      }
    }
    return loss;
  }
}
