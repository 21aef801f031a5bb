/**
 * Every value of losses.json (sentence-transformers' losses on one batch of the fixture model in
 * training mode) through the ort trainer's own path: the forward graph in training mode, then the
 * loss plugin's reference implementation on the pooled, normalized outputs (OrtTrainStep.gradients).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadModelLayout } from '../../../../engine/model/layout.js';
import type { LossPlugin } from '../../../../core/train/loss.js';
import type { Example, PluginClass } from '../../../../core/types.js';
import { OrtBertEngine } from '../../../../plugins/backend/ort/bert-engine.js';
import { OrtTrainStep } from '../../../../plugins/backend/ort/train-step.js';
import BatchAllTriplet from '../../../../plugins/loss/batch-all-triplet.js';
import BatchHardSoftMarginTriplet from '../../../../plugins/loss/batch-hard-soft-margin-triplet.js';
import BatchHardTriplet from '../../../../plugins/loss/batch-hard-triplet.js';
import BatchSemiHardTriplet from '../../../../plugins/loss/batch-semi-hard-triplet.js';
import Contrastive from '../../../../plugins/loss/contrastive.js';
import MultipleNegativesRanking from '../../../../plugins/loss/multiple-negatives-ranking.js';
import Triplet from '../../../../plugins/loss/triplet.js';
import { makeContext } from '../../../helpers/context.js';
import { lossFixture } from '../../../helpers/fixture-embeddings.js';
import { describeShared, TINY_BERT } from '../../../helpers/shared.js';
import { LossSeam } from '../../../../core/train/seam.js';

type Loss = PluginClass<LossPlugin>;
const CASES: Array<[key: string, plugin: Loss, options: Record<string, unknown>]> = [
  ['batch_semi_hard_triplet', BatchSemiHardTriplet, { margin: 5, distance_metric: 'euclidean' }],
  ['batch_semi_hard_triplet_margin_0.3', BatchSemiHardTriplet, { margin: 0.3, distance_metric: 'euclidean' }],
  ['batch_hard_triplet', BatchHardTriplet, { margin: 5, distance_metric: 'euclidean' }],
  ['batch_hard_triplet_margin_0.3', BatchHardTriplet, { margin: 0.3, distance_metric: 'euclidean' }],
  ['batch_all_triplet', BatchAllTriplet, { margin: 5, distance_metric: 'euclidean' }],
  ['batch_all_triplet_margin_0.3', BatchAllTriplet, { margin: 0.3, distance_metric: 'euclidean' }],
  ['batch_hard_soft_margin_triplet', BatchHardSoftMarginTriplet, { distance_metric: 'euclidean' }],
  ['triplet', Triplet, { margin: 5, distance_metric: 'euclidean' }],
  ['triplet_margin_0.3', Triplet, { margin: 0.3, distance_metric: 'euclidean' }],
  ['multiple_negatives_ranking', MultipleNegativesRanking, { scale: 20, similarity: 'cos' }],
  ['contrastive', Contrastive, { margin: 0.5, distance_metric: 'cosine', size_average: true }],
];

describeShared('losses.json on the ort trainer', () => {
  let engine: OrtBertEngine;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    engine = await OrtBertEngine.load(loadModelLayout(TINY_BERT, { query_prompt: '', document_prompt: '' }), { threads: 1, executionProviders: ['cpu'] });
  });
  afterAll(async () => {
    await engine.dispose();
  });

  it('covers every loss of the fixture', () => {
    expect(CASES.map((c) => c[0]).sort()).toEqual(Object.keys(lossFixture().losses).sort());
  });

  for (const [key, Plugin, options] of CASES) {
    it(`${key}: within 1e-5 of sentence-transformers`, async () => {
      const fx = lossFixture();
      const b = fx.batch;
      const loss = await new Plugin(options, makeContext());
      const items: Example[] = b.anchor.map((anchor, i) => {
        const label = b.label_names[b.labels[i]!]!;
        switch (loss.needs) {
          case 'labelled':
            return { anchor, label };
          case 'pairs':
            return { anchor, positive: b.positive[i]! };
          case 'triplets':
            return { anchor, positive: b.positive[i]!, negative: b.negative[i]! };
          case 'labelled-pairs':
            return { anchor, positive: b.positive[i]!, negative: b.negative[i]!, pairLabel: b.contrastive_pair_label[i]! };
        }
      });
      const step = new OrtTrainStep(engine, new LossSeam(loss, b.label_names), { weightDecay: 0 });
      const got = await step.gradients([items], [0]);
      step.clearTables(got.touched, got.positions);
      expect(Math.abs(got.loss - fx.losses[key]!.value), `${got.loss} vs ${fx.losses[key]!.value}`).toBeLessThanOrEqual(1e-5);
    });
  }
});
