/**
 * Loss `batch-hard-soft-margin-triplet`: sentence-transformers' BatchHardSoftMarginTripletLoss. Like
 * batch-hard-triplet (hardest positive and hardest negative per anchor) but with a soft margin instead of
 * a fixed one: loss = mean of log(1 + exp(d(a,p) − d(a,n))).
 */
import * as tf from '@tensorflow/tfjs';
import type { ExampleShape, JsonSchema, RunContext } from '../../core/types.js';
import { BATCH_DISTANCE_OPTION, type BatchDistance, type LossBatch, type LossPlugin, need } from '../../core/train/loss.js';
import { hardestDistances } from './batch-hard-triplet.js';

export interface BatchHardSoftMarginTripletOptions {
  distance_metric: BatchDistance;
}

export default class BatchHardSoftMarginTripletLoss implements LossPlugin {
  static readonly type = 'batch-hard-soft-margin-triplet';
  static readonly description =
    'Batch-hard triplet loss with a soft margin, log(1 + exp(d(a,p) − d(a,n))) (sentence-transformers BatchHardSoftMarginTripletLoss).';
  static readonly needs: ExampleShape = 'labelled';
  static readonly schema: JsonSchema = {
    type: 'object',
    additionalProperties: false,
    properties: {
      distance_metric: BATCH_DISTANCE_OPTION,
    },
  };

  readonly needs: ExampleShape = BatchHardSoftMarginTripletLoss.needs;

  constructor(
    private readonly options: BatchHardSoftMarginTripletOptions,
    private readonly ctx: RunContext,
  ) {}

  compute(batch: LossBatch): tf.Scalar {
    const emb = need(batch, 'anchor', BatchHardSoftMarginTripletLoss.type);
    const labels = need(batch, 'labels', BatchHardSoftMarginTripletLoss.type);
    return tf.tidy(() => {
      const { pos, neg } = hardestDistances(emb, labels, this.options.distance_metric);
      return tf.mean(tf.log1p(tf.exp(tf.sub(pos, neg)))) as tf.Scalar;
    });
  }
}
