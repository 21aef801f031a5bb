import { describe } from 'vitest';
import Loss from '../../../plugins/loss/batch-all-triplet.js';
import { runLossSuite } from './harness.js';
import { batchAll, type BatchMetric } from './reference.js';

describe('loss batch-all-triplet', () => {
  runLossSuite({
    plugin: Loss,
    defaults: { margin: 5, distance_metric: 'euclidean' },
    fixture: [
      { key: 'batch_all_triplet', options: {} },
      { key: 'batch_all_triplet_margin_0.3', options: { margin: 0.3 } },
    ],
    variants: [
      { margin: 5 },
      { margin: 0.3 },
      { margin: 0.3, distance_metric: 'squared_euclidean' },
      { margin: 0.2, distance_metric: 'cosine' },
    ],
    reference: (b, o) => batchAll(b.anchor, b.labels!, o.margin as number, o.distance_metric as BatchMetric),
  });
});
