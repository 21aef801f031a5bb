/**
 * Loss `distill-kl-div`: sentence-transformers' DistillKLDivLoss (knowledge distillation): the KL
 * divergence from the teacher's softmax over [positive, negative_1 … negative_n] to the student's,
 * the student's scores being dot(query, candidate). Scores are divided by the temperature (student
 * and teacher may each have their own), and the loss is multiplied by the student temperature².
 */
import type * as tf from '@tensorflow/tfjs-core';
import { definePlugin } from '../../core/plugin.js';
import type { LossBatch } from '../../core/train/loss.js';
import { distillColumns, loadLossHelpers } from '../common/loss.js';

export interface DistillKlDivOptions {
  temperature: number;
  student_temperature?: number;
  teacher_temperature?: number;
}

const TYPE = 'distill-kl-div';

const temperature = (what: string, def?: number) => ({
  type: 'number',
  exclusiveMinimum: 0,
  ...(def === undefined ? {} : { default: def }),
  description: what,
});

export default definePlugin({
  stage: 'loss',
  type: TYPE,
  description:
    "Distillation: KL divergence between a teacher's and the student's softmax over each query's positive and negatives (sentence-transformers DistillKLDivLoss).",
  needs: 'triplets',
  reads: ['teacher'],
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      temperature: temperature('Scores are divided by this before the softmax (student and teacher); the loss is multiplied by its square.', 1),
      student_temperature: temperature('The student side of `temperature` (default: temperature); the loss is multiplied by its square.'),
      teacher_temperature: temperature('The teacher side of `temperature` (default: temperature).'),
    },
  },
  async create(options: DistillKlDivOptions) {
    const { tf } = await loadLossHelpers();
    const ts = options.student_temperature ?? options.temperature;
    const tt = options.teacher_temperature ?? options.temperature;
    return {
      compute(batch: LossBatch): tf.Scalar {
        const { query: q, positive: p, negatives: negs, teacher } = distillColumns(batch, TYPE, 'teacher scores');
        if (teacher.shape[1] !== negs.length + 1) {
          throw new Error(
            `loss ${TYPE}: each example has ${teacher.shape[1]} teacher score(s) but the batch has ${negs.length + 1} candidates (positive and ${negs.length} negative(s))`,
          );
        }
        return tf.tidy(() => {
          const student = tf.concat([p, ...negs].map((d) => tf.sum(tf.mul(q, d), 1, true)), 1); // [b, 1 + n]
          const logP = tf.logSoftmax(tf.div(student, ts));
          const t = tf.softmax(tf.div(tf.cast(teacher, 'float32'), tt));
          // nn.KLDivLoss(reduction='batchmean'): Σ t · (log t − log p) / batch, with 0 · log 0 = 0.
          const tLogT = tf.where(tf.greater(t, 0), tf.mul(t, tf.log(tf.maximum(t, 1e-45))), tf.zerosLike(t));
          const kl = tf.div(tf.sum(tf.sub(tLogT, tf.mul(t, logP))), q.shape[0]);
          return tf.mul(kl, ts * ts) as tf.Scalar;
        });
      },
    };
  },
});
