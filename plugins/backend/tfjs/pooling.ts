/**
 * Sentence-transformers pooling and Normalize as differentiable tfjs ops (the host-side twin
 * is engine/model/pooling.ts):
 *   cls  = the first token's vector
 *   mean = sum over attended tokens / max(count, 1e-9)
 *   max  = element-wise max over attended tokens (padding set to -1e9 first)
 *   normalize = x / max(‖x‖₂, 1e-12)   (torch.nn.functional.normalize)
 */
import * as tf from '@tensorflow/tfjs';
import type { PoolingMode } from '../../../engine/model/pooling.js';

/** hidden [batch, seq, dim], mask [batch, seq] (0/1 float) → [batch, dim]. */
export function poolTf(hidden: tf.Tensor3D, mask: tf.Tensor2D, mode: PoolingMode): tf.Tensor2D {
  const [B, S, H] = hidden.shape;
  return tf.tidy(() => {
    if (mode === 'cls') return tf.reshape(tf.slice(hidden, [0, 0, 0], [B, 1, H]), [B, H]);
    const m = tf.reshape(mask, [B, S, 1]);
    if (mode === 'mean') {
      const sum = tf.sum(tf.mul(hidden, m), 1);
      return tf.div(sum, tf.maximum(tf.sum(m, 1), 1e-9)) as tf.Tensor2D;
    }
    const filled = tf.where(tf.greater(tf.broadcastTo(m, [B, S, H]), 0), hidden, tf.fill([B, S, H], -1e9));
    return tf.max(filled, 1) as tf.Tensor2D;
  });
}

/** Row-wise L2 normalization, x / max(‖x‖, 1e-12). */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.sqrt(tf.sum(tf.square(x), 1, true)), 1e-12)) as tf.Tensor2D);
}
