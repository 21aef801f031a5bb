/**
 * The seam's trainColumns on tfjs (core/train/seam.ts), for every tfjs-based trainer (the tfjs
 * engine, adapters): one tape over the columns' forward passes, the seam's ∂embeddings, and the
 * weight gradients of Σ_c ⟨embedding_c, ∂embedding_c⟩, added to the step's accumulators.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradFn, SeededColumn } from '../../core/train/seam.js';

/**
 * The gradients by variable name of Σ_c ⟨embed(c), ∂c⟩, where ∂ = grad(the embeddings). A
 * variable no column depends on (e.g. when every column is frozen) gets no entry: no error.
 */
export function backpropColumns(variables: tf.Variable[], embed: (col: SeededColumn) => tf.Tensor2D, columns: SeededColumn[], grad: GradFn): tf.NamedTensorMap {
  const { value, grads } = tf.engine().gradients(
    () =>
      tf.tidy(() => {
        const embs = columns.map(embed);
        const dEmb = grad(embs.map((e) => e.dataSync() as Float32Array));
        return tf.addN(embs.map((e, c) => tf.sum(tf.mul(e, tf.tensor2d(dEmb[c]!, e.shape))))) as tf.Scalar;
      }),
    variables,
    undefined,
    true,
  );
  value.dispose();
  const named: tf.NamedTensorMap = {};
  variables.forEach((v, i) => {
    if (grads[i]) named[v.name] = grads[i]!;
  });
  return named;
}

/** Adds `grads` into `acc` (in place; both inputs' replaced tensors are disposed) and returns it. */
export function addGrads(acc: tf.NamedTensorMap | undefined, grads: tf.NamedTensorMap): tf.NamedTensorMap {
  if (!acc) return grads;
  for (const [k, g] of Object.entries(grads)) {
    const prev = acc[k];
    if (!prev) acc[k] = g;
    else {
      acc[k] = tf.add(prev, g);
      tf.dispose([prev, g]);
    }
  }
  return acc;
}
