import { describe } from 'vitest';
import Loss from '../../../plugins/loss/contrastive.js';
import { runLossSuite } from './harness.js';
import { contrastive, type RowMetric } from './reference.js';

describe('loss contrastive', () => {
  runLossSuite({
    plugin: Loss,
    defaults: { margin: 0.5, distance_metric: 'cosine', size_average: true },
    // label 1 → (anchor, positive), 0 → (anchor, negative), as in losses.json.
    fixture: [{ key: 'contrastive', options: {} }],
    variants: [
      {},
      { margin: 1.5, size_average: false },
      { margin: 1.2, distance_metric: 'euclidean' },
      { margin: 3, distance_metric: 'manhattan' },
    ],
    reference: (b, o) =>
      contrastive(b.anchor, b.positive!, b.pairLabels!, o.margin as number, o.distance_metric as RowMetric, o.size_average as boolean),
  });
});
