/**
 * Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_: the total norm is the norm of
 * the per-tensor norms; every gradient is multiplied by min(max_norm / (total + 1e-6), 1). Returns the
 * (new) clipped gradients and the total norm before clipping. Non-finite norms are returned as they are
 * (the trainer's NaN/Inf guard decides what to do).
 */
import * as tf from '@tensorflow/tfjs-core';

export type NormType = 2 | 'inf';

/** Global norm of a set of gradients (the value clip_grad_norm_ returns). */
export function globalNorm(grads: Record<string, tf.Tensor | undefined>, normType: NormType = 2): number {
  const list = Object.values(grads).filter((g): g is tf.Tensor => g !== undefined);
  if (list.length === 0) return 0;
  return tf.tidy(() => {
    if (normType === 'inf') return tf.max(tf.stack(list.map((g) => tf.max(tf.abs(g))))).dataSync()[0]!;
    const norms = list.map((g) => tf.sqrt(tf.sum(tf.square(g))));
    return tf.sqrt(tf.sum(tf.square(tf.stack(norms)))).dataSync()[0]!;
  });
}

/** The factor clip_grad_norm_ multiplies by, in float32 as torch: clamp(max_norm / (total_norm + 1e-6), max=1). */
export function clipCoef(totalNorm: number, maxNorm: number): number {
  const f = Math.fround;
  return Math.min(f(f(maxNorm) / f(totalNorm + f(1e-6))), 1);
}

export interface ClipResult {
  grads: Record<string, tf.Tensor>;
  /** Total norm before clipping. */
  totalNorm: number;
  /** The factor applied (1 when not clipped). */
  coef: number;
}

/**
 * Clips to `maxNorm`. The input tensors are not modified or disposed; the result holds new tensors
 * (the caller disposes both). Undefined entries are dropped.
 */
export function clipGradNorm(grads: Record<string, tf.Tensor | undefined>, maxNorm: number, normType: NormType = 2): ClipResult {
  const totalNorm = globalNorm(grads, normType);
  const coef = clipCoef(totalNorm, maxNorm);
  const out: Record<string, tf.Tensor> = {};
  for (const [k, g] of Object.entries(grads)) {
    if (g) out[k] = tf.mul(g, coef);
  }
  return { grads: out, totalNorm, coef };
}
