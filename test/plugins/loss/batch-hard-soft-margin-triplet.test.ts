import { describe } from 'vitest';
import Loss from '../../../plugins/loss/batch-hard-soft-margin-triplet.js';
import { runLossSuite } from './harness.js';
import { batchHardSoft, type BatchMetric } from './reference.js';

describe('loss batch-hard-soft-margin-triplet', () => {
  runLossSuite({
    plugin: Loss,
    defaults: { distance_metric: 'euclidean' },
    fixture: [{ key: 'batch_hard_soft_margin_triplet', options: {} }],
    variants: [{}, { distance_metric: 'squared_euclidean' }, { distance_metric: 'cosine' }],
    reference: (b, o) => batchHardSoft(b.anchor, b.labels!, o.distance_metric as BatchMetric),
  });
});
