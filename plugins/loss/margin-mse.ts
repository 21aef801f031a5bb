/**
 * Loss `margin-mse`: sentence-transformers' MarginMSELoss (knowledge distillation): the mean squared
 * error between the student's margins dot(query, positive) − dot(query, negative_i) and the teacher's.
 * Each example's `teacher` values are either the n margins (one per negative) or the n + 1 teacher
 * scores [positive, negative_1 … negative_n], from which the margins are taken.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { definePlugin } from '../../core/plugin.js';
import type { LossBatch } from '../../core/train/loss.js';
import { distillColumns, loadLossHelpers } from '../common/loss.js';

const TYPE = 'margin-mse';

export default definePlugin({
  stage: 'loss',
  type: TYPE,
  description:
    "Distillation: mean squared error between the student's and a teacher's margins dot(query, positive) − dot(query, negative) (sentence-transformers MarginMSELoss).",
  needs: 'triplets',
  reads: ['teacher'],
  schema: { type: 'object', additionalProperties: false, properties: {} },
  async create() {
    const { tf } = await loadLossHelpers();
    return {
      compute(batch: LossBatch): tf.Scalar {
        const { query: q, positive: p, negatives: negs, teacher } = distillColumns(batch, TYPE, 'teacher values');
        const k = teacher.shape[1];
        const n = negs.length;
        if (k !== n && k !== n + 1) {
          throw new Error(
            `loss ${TYPE}: each example has ${k} teacher value(s) but the batch has ${n} negative(s): give ${n} margin(s) or ${n + 1} scores [positive, negatives…]`,
          );
        }
        return tf.tidy(() => {
          const pos = tf.sum(tf.mul(q, p), 1, true); // [b, 1]
          const margins = tf.concat(negs.map((neg) => tf.sub(pos, tf.sum(tf.mul(q, neg), 1, true))), 1); // [b, n]
          const t = tf.cast(teacher, 'float32');
          const target = k === n ? t : tf.sub(tf.slice(t, [0, 0], [-1, 1]), tf.slice(t, [0, 1], [-1, n]));
          return tf.mean(tf.square(tf.sub(margins, target))) as tf.Scalar;
        });
      },
    };
  },
});
