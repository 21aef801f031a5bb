import { describe } from 'vitest';
import Loss from '../../../plugins/loss/batch-hard-triplet.js';
import { runLossSuite } from './harness.js';
import { batchHard, type BatchMetric } from './reference.js';

describe('loss batch-hard-triplet', () => {
  runLossSuite({
    plugin: Loss,
    defaults: { margin: 5, distance_metric: 'euclidean' },
    fixture: [
      { key: 'batch_hard_triplet', options: {} },
      { key: 'batch_hard_triplet_margin_0.3', options: { margin: 0.3 } },
    ],
    variants: [
      { margin: 5 },
      { margin: 0.3 },
      { margin: 0.3, distance_metric: 'squared_euclidean' },
      { margin: 0.2, distance_metric: 'cosine' },
    ],
    reference: (b, o) => batchHard(b.anchor, b.labels!, o.margin as number, o.distance_metric as BatchMetric),
  });
});
