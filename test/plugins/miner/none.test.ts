import { describe, expect, it } from 'vitest';
import type { Query } from '../../../core/types.js';
import NoneMiner from '../../../plugins/miner/none.js';
import { makeContext } from '../../helpers/context.js';

describe('miner none', () => {
  it('declares labelled, pairs and triplets statically and on the instance', () => {
    expect(NoneMiner.provides).toEqual(['labelled', 'pairs', 'triplets']);
    expect(new NoneMiner({}, makeContext()).provides).toEqual(['labelled', 'pairs', 'triplets']);
  });

  it('turns labelled queries whose documents are not in the corpus into (anchor, label) examples, nothing else', async () => {
    const train: Query[] = [
      { id: '1', text: 'a', relevant: ['X'], label: 'L1' },
      { id: '2', text: 'b', relevant: ['Y'] },
    ];
    const ex = await new NoneMiner({}, makeContext()).mine(train, []);
    expect(ex).toEqual({ shapes: ['labelled'], items: [{ anchor: 'a', label: 'L1' }, { anchor: 'b', label: 'Y' }] });
  });

  it('produces no shape when some query has no label', async () => {
    const warnings: string[] = [];
    const ctx = makeContext({ logger: { info() {}, debug() {}, warn: (m) => warnings.push(m) } });
    const ex = await new NoneMiner({}, ctx).mine([{ id: '1', text: 'a', relevant: [] }], []);
    expect(ex).toEqual({ shapes: [], items: [{ anchor: 'a' }] });
    expect(warnings).toEqual(['miner none: 1 of 1 training queries have no label; the examples are not labelled']);
  });

  it('adds the first relevant document as the positive: pairs', async () => {
    const corpus = [{ id: 'X', text: 'doc X' }, { id: 'Y', text: 'doc Y' }];
    const ex = await new NoneMiner({}, makeContext()).mine([{ id: '1', text: 'a', relevant: ['X', 'Y'], label: 'L' }], corpus);
    expect(ex).toEqual({ shapes: ['labelled', 'pairs'], items: [{ anchor: 'a', label: 'L', positive: 'doc X' }] });
  });

  it("passes the data's negatives, score and teacher values on: triplets / n-tuples when every query has negatives", async () => {
    const corpus = [{ id: 'X', text: 'doc X' }, { id: 'Y', text: 'doc Y' }];
    const train: Query[] = [
      { id: '1', text: 'a', relevant: ['X'], negatives: ['n1', 'n2'], score: 0.5, teacher: [0.9, 0.1, 0.3] },
      { id: '2', text: 'b', relevant: ['Y'], negatives: ['n3'], score: 1, teacher: [0.8, 0.2, 0.4] },
    ];
    const ex = await new NoneMiner({}, makeContext()).mine(train, corpus);
    expect(ex).toEqual({
      shapes: ['labelled', 'pairs', 'triplets'],
      items: [
        { anchor: 'a', label: 'X', positive: 'doc X', negative: 'n1', negatives: ['n1', 'n2'], score: 0.5, teacher: [0.9, 0.1, 0.3] },
        { anchor: 'b', label: 'Y', positive: 'doc Y', negative: 'n3', negatives: ['n3'], score: 1, teacher: [0.8, 0.2, 0.4] },
      ],
    });
    // one query without negatives (an empty list) and the examples are no longer triplets
    const warnings: string[] = [];
    const ctx = makeContext({ logger: { info() {}, debug() {}, warn: (m) => warnings.push(m) } });
    const some = await new NoneMiner({}, ctx).mine([train[0]!, { ...train[1]!, negatives: [] }], corpus);
    expect(warnings).toEqual([
      'miner none: 1 of 2 training queries have no negatives of their own (first: 2), so the examples are not triplets, and a batch that holds one of them has no negative columns',
    ]);
    expect(some.shapes).toEqual(['labelled', 'pairs']);
    expect(some.items[1]).toEqual({ anchor: 'b', label: 'Y', positive: 'doc Y', score: 1, teacher: [0.8, 0.2, 0.4] });
  });
});
