import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import Loss from '../../../plugins/loss/multiple-negatives-ranking.js';
import { makeContext } from '../../helpers/context.js';
import { randomBatch, runLossSuite } from './harness.js';
import { mnrl } from './reference.js';

describe('loss multiple-negatives-ranking', () => {
  runLossSuite({
    plugin: Loss,
    defaults: { scale: 20, similarity: 'cos', directions: ['query_to_doc'], partition_mode: 'joint', hardness_mode: 'none', hardness_strength: 0 },
    // anchor → positive with in-batch negatives only (no negative column), as in losses.json.
    fixture: [{ key: 'multiple_negatives_ranking', options: {} }],
    variants: [{}, { scale: 5 }, { scale: 1, similarity: 'dot' }],
    withNegatives: true,
    reference: (b, o) => mnrl(b.anchor, b.positive!, b.negative, o.scale as number, o.similarity as 'cos' | 'dot'),
  });

  it('scores every anchor against every negative column (negative_1 … negative_n); `negative` alone is the first', async () => {
    await tf.setBackend('cpu');
    const loss = await new Loss({ scale: 20, similarity: 'cos', directions: ['query_to_doc'], partition_mode: 'joint', hardness_mode: 'none', hardness_strength: 0 }, makeContext());
    const b = randomBatch('pairs', 7);
    const second = randomBatch('pairs', 8).negative!;
    const third = randomBatch('pairs', 9).negative!;
    const [anchor, positive, n1, n2, n3] = [b.anchor, b.positive!, b.negative!, second, third].map((v) => tf.tensor2d(v)) as tf.Tensor2D[];
    const value = (batch: Parameters<typeof loss.compute>[0]) => tf.tidy(() => loss.compute(batch).dataSync()[0]!);
    const all = value({ anchor: anchor!, positive: positive!, negative: n1, negatives: [n1!, n2!, n3!] });
    expect(all).toBeCloseTo(mnrl(b.anchor, b.positive!, [...b.negative!, ...second, ...third], 20, 'cos'), 4);
    expect(value({ anchor: anchor!, positive: positive!, negative: n1 })).toBeCloseTo(mnrl(b.anchor, b.positive!, b.negative, 20, 'cos'), 4);
    expect(value({ anchor: anchor!, positive: positive!, negatives: [n1!] })).toBeCloseTo(value({ anchor: anchor!, positive: positive!, negative: n1 }), 6);
    // More negatives make the task harder: the loss grows with each column.
    expect(all).toBeGreaterThan(value({ anchor: anchor!, positive: positive!, negatives: [n1!, n2!] }));
    tf.dispose([anchor!, positive!, n1!, n2!, n3!]);
  });
});
