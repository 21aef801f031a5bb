/**
 * Loss `multiple-negatives-symmetric-ranking`: sentence-transformers' MultipleNegativesSymmetricRankingLoss,
 * which 6.0 defines as MultipleNegativesRankingLoss with directions [query_to_doc, doc_to_query] and
 * partition_mode per_direction: the mean of the forward loss (each anchor finds its positive among
 * every document of the batch, negatives included) and the backward loss (each positive finds its
 * anchor among every anchor of the batch).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { definePlugin } from '../../core/plugin.js';
import type { LossBatch } from '../../core/train/loss.js';
import { loadLossHelpers } from '../common/loss.js';
import { MNRL_BASE_PROPERTIES, mnrlLoss } from './multiple-negatives-ranking.js';

export interface MultipleNegativesSymmetricRankingOptions {
  scale: number;
  similarity: 'cos' | 'dot';
}

const TYPE = 'multiple-negatives-symmetric-ranking';

export default definePlugin({
  stage: 'loss',
  type: TYPE,
  description:
    'Symmetric InfoNCE: the mean of anchor → positive and positive → anchor ranking losses (sentence-transformers MultipleNegativesSymmetricRankingLoss = multiple-negatives-ranking with directions [query_to_doc, doc_to_query], per_direction).',
  needs: 'pairs',
  schema: { type: 'object', additionalProperties: false, properties: MNRL_BASE_PROPERTIES },
  async create(options: MultipleNegativesSymmetricRankingOptions) {
    const h = await loadLossHelpers();
    const o = { ...options, directions: ['query_to_doc', 'doc_to_query'] as const, partition_mode: 'per_direction' as const, hardness_mode: 'none' as const, hardness_strength: 0 };
    return { compute: (batch: LossBatch): tf.Scalar => mnrlLoss(h, batch, { ...o, directions: [...o.directions] }, TYPE) };
  },
});
