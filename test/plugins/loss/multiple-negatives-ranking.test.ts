import { describe } from 'vitest';
import Loss from '../../../plugins/loss/multiple-negatives-ranking.js';
import { runLossSuite } from './harness.js';
import { mnrl } from './reference.js';

describe('loss multiple-negatives-ranking', () => {
  runLossSuite({
    plugin: Loss,
    defaults: { scale: 20, similarity: 'cos' },
    // anchor → positive with in-batch negatives only (no negative column), as in losses.json.
    fixture: [{ key: 'multiple_negatives_ranking', options: {} }],
    variants: [{}, { scale: 5 }, { scale: 1, similarity: 'dot' }],
    withNegatives: true,
    reference: (b, o) => mnrl(b.anchor, b.positive!, b.negative, o.scale as number, o.similarity as 'cos' | 'dot'),
  });
});
