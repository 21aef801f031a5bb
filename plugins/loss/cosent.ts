/**
 * Loss `cosent`: sentence-transformers' CoSENTLoss on scored pairs. Each example is a pair
 * (anchor = sentence 1, positive = sentence 2) with a float `score`; s = scale · cos(sentence 1,
 * sentence 2), and loss = log(1 + Σ exp(s_k − s_i)) over every two pairs whose labels order them
 * strictly (label_k < label_i; ties are not ordered).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { definePlugin } from '../../core/plugin.js';
import type { LossBatch } from '../../core/train/loss.js';
import { type LossHelpers, loadLossHelpers, SCALE_OPTION } from '../common/loss.js';

export interface CosentOptions {
  scale: number;
}

const TYPE = 'cosent';

/** The scores of a batch of scored pairs, with a message that says where scores come from. */
export function needScores(batch: LossBatch, type: string): tf.Tensor1D {
  if (!batch.scores) throw new Error(`loss ${type} needs a score on every example of the batch (batch.scores): give each pair a \`score\``);
  return batch.scores;
}

/**
 * CoSENT on precomputed pair similarities `sim` [n] and labels [n]: logsumexp over 0 and
 * scale · (sim_i − sim_j) for every (i, j) with label_i < label_j.
 */
export function cosentFromSimilarities(tf: LossHelpers['tf'], sim: tf.Tensor1D, labels: tf.Tensor1D, scale: number): tf.Scalar {
  return tf.tidy(() => {
    const s = tf.mul(sim, scale);
    const diff = tf.sub(tf.expandDims(s, 1), tf.expandDims(s, 0)); // s_i − s_j
    const l = tf.cast(labels, 'float32');
    // 1 where label_i < label_j (strictly: step(0) = 0); constant, no gradient.
    const ordered = tf.step(tf.sub(tf.expandDims(l, 0), tf.expandDims(l, 1)));
    const masked = tf.sub(diff, tf.mul(tf.sub(1, ordered), 1e12));
    return tf.logSumExp(tf.concat([tf.zeros([1]), tf.reshape(masked, [-1])], 0)) as tf.Scalar;
  });
}

export default definePlugin({
  stage: 'loss',
  type: TYPE,
  description:
    'CoSENT on scored pairs: ranks the cosine similarities of pairs in the order of their scores (sentence-transformers CoSENTLoss).',
  needs: 'pairs',
  reads: ['score'],
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      scale: SCALE_OPTION,
    },
  },
  async create(options: CosentOptions) {
    const { tf, need, normalizeRows } = await loadLossHelpers();
    return {
      compute(batch: LossBatch): tf.Scalar {
        const a = need(batch, 'anchor', TYPE);
        const b = need(batch, 'positive', TYPE);
        const labels = needScores(batch, TYPE);
        return tf.tidy(() => {
          // util.pairwise_cos_sim: F.normalize (eps 1e-12) of both, then the row-wise dot product.
          const sim = tf.sum(tf.mul(normalizeRows(a), normalizeRows(b)), 1) as tf.Tensor1D;
          return cosentFromSimilarities(tf, sim, labels, options.scale);
        });
      },
    };
  },
});
