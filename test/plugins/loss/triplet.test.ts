import { describe } from 'vitest';
import Loss from '../../../plugins/loss/triplet.js';
import { runLossSuite } from './harness.js';
import { type RowMetric, triplet } from './reference.js';

describe('loss triplet', () => {
  runLossSuite({
    plugin: Loss,
    defaults: { margin: 5, distance_metric: 'euclidean' },
    fixture: [
      { key: 'triplet', options: {} },
      { key: 'triplet_margin_0.3', options: { margin: 0.3 } },
    ],
    variants: [
      { margin: 5 },
      { margin: 0.3 },
      { margin: 0.3, distance_metric: 'cosine' },
      { margin: 1, distance_metric: 'manhattan' },
    ],
    reference: (b, o) => triplet(b.anchor, b.positive!, b.negative!, o.margin as number, o.distance_metric as RowMetric),
  });
});
