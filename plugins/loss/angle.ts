/**
 * Loss `angle`: sentence-transformers' AnglELoss: CoSENT with the angle difference of the two
 * embeddings in complex space (util.pairwise_angle_sim) as the similarity. On scored pairs it needs
 * a `score` per pair; with negatives it is the 6.0 n-tuple form: (anchor, positive) pairs take the
 * score (1 when the examples have none), (anchor, negative_i) pairs 1 − score.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { definePlugin } from '../../core/plugin.js';
import type { CheckContext } from '../../core/types.js';
import type { LossBatch } from '../../core/train/loss.js';
import { loadLossHelpers, type LossHelpers, SCALE_OPTION } from '../common/loss.js';
import { cosentFromSimilarities, needScores } from './cosent.js';

export interface AngleOptions {
  scale: number;
}

const TYPE = 'angle';

/**
 * util.pairwise_angle_sim: each embedding is split in half (real, imaginary parts); the absolute sum
 * of the normalized complex quotient x / y, [n].
 */
export function pairwiseAngleSim(tf: LossHelpers['tf'], x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const dim = x.shape[1];
    if (dim % 2 !== 0) throw new Error(`loss ${TYPE} needs an even embedding dimension (real and imaginary halves); got ${dim}`);
    const [a, b] = tf.split(x, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
    const [c, d] = tf.split(y, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
    const z = tf.sum(tf.add(tf.square(c), tf.square(d)), 1, true);
    const re = tf.div(tf.add(tf.mul(a, c), tf.mul(b, d)), z);
    const im = tf.div(tf.sub(tf.mul(b, c), tf.mul(a, d)), z);
    const dz = tf.sqrt(tf.sum(tf.add(tf.square(a), tf.square(b)), 1, true));
    const dw = tf.sqrt(z);
    const ratio = tf.div(dz, dw);
    const sum = tf.sum(tf.concat([tf.div(re, ratio), tf.div(im, ratio)], 1), 1);
    return tf.abs(sum) as tf.Tensor1D;
  });
}

export default definePlugin({
  stage: 'loss',
  type: TYPE,
  description:
    'AnglE on scored pairs (or on anchor, positive, negatives without scores): CoSENT with angle similarity in complex space (sentence-transformers AnglELoss).',
  needs: 'pairs',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      scale: SCALE_OPTION,
    },
  },
  check(_o: AngleOptions & Record<string, unknown>, context: CheckContext) {
    const dim = context.modelDim?.();
    if (dim === undefined || dim % 2 === 0) return [];
    return [{ path: [], message: `angle splits each embedding into real and imaginary halves, so it needs an even embedding dimension, not ${dim}. Use cosent (the same ranking on cosine similarity)` }];
  },
  async create(options: AngleOptions) {
    const { tf, need } = await loadLossHelpers();
    return {
      compute(batch: LossBatch): tf.Scalar {
        const anchor = need(batch, 'anchor', TYPE);
        const positive = need(batch, 'positive', TYPE);
        const negatives = batch.negatives ?? (batch.negative ? [batch.negative] : []);
        if (negatives.length === 0) {
          const labels = needScores(batch, TYPE);
          return tf.tidy(() => cosentFromSimilarities(tf, pairwiseAngleSim(tf, anchor, positive), labels, options.scale));
        }
        return tf.tidy(() => {
          // n-tuples: the anchor against every other column, positives labelled `score` (or 1),
          // negatives 1 − that.
          const n = anchor.shape[0];
          const left = tf.concat(negatives.map(() => anchor).concat([anchor]), 0) as tf.Tensor2D;
          const right = tf.concat([positive, ...negatives], 0) as tf.Tensor2D;
          const pos = batch.scores ? tf.cast(batch.scores, 'float32') : tf.ones([n]);
          const labels = tf.concat([pos, ...negatives.map(() => tf.sub(1, pos))], 0) as tf.Tensor1D;
          return cosentFromSimilarities(tf, pairwiseAngleSim(tf, left, right), labels, options.scale);
        });
      },
    };
  },
});
