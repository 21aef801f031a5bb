import { configAjv } from '../../../core/config/ajv.js';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../core/errors.js';
import type { Doc, Query } from '../../../core/types.js';
import JsonlDataset from '../../../plugins/dataset/jsonl.js';
import RandomNegativeMiner from '../../../plugins/miner/random-negative.js';
import { makeContext } from '../../helpers/context.js';
import { describeShared, TRANSACTIONS } from '../../helpers/shared.js';

const corpus: Doc[] = ['A', 'B', 'C', 'D'].map((id) => ({ id, text: `doc ${id}` }));
const q = (id: string, relevant: string[], label?: string): Query => ({ id, text: `query ${id}`, relevant, ...(label ? { label } : {}) });
const miner = (o: { negatives_per_anchor?: number; seed?: number; explicit_negatives?: 'first' | 'replace' | 'ignore' } = {}, seed = 42) =>
  new RandomNegativeMiner({ negatives_per_anchor: 1, explicit_negatives: 'first', ...o }, makeContext({ seed }));

describe('miner random-negative', () => {
  it('has a strict schema with negatives_per_anchor defaulting to 1', () => {
    const validate = configAjv({ useDefaults: true }).compile(RandomNegativeMiner.schema);
    const o: Record<string, unknown> = {};
    expect(validate(o)).toBe(true);
    expect(o).toEqual({ negatives_per_anchor: 1, explicit_negatives: 'first' });
    expect(validate({ explicit_negatives: 'prepend' })).toBe(false);
    expect(validate({ negatives_per_anchor: 0 })).toBe(false);
  });

  it('declares its shapes statically and on the instance', () => {
    expect(RandomNegativeMiner.provides).toEqual(['labelled', 'triplets', 'pairs', 'labelled-pairs']);
    expect(miner().provides).toEqual(['labelled', 'triplets', 'pairs', 'labelled-pairs']);
  });

  it('builds (query, label document, random other document) triplets with the label', async () => {
    const train = [q('1', ['A'], 'A'), q('2', ['C'], 'C'), q('3', ['B'])];
    const ex = await miner().mine(train, corpus);
    expect(ex.shapes).toEqual(['labelled', 'triplets', 'pairs', 'labelled-pairs']);
    expect(ex.items).toHaveLength(3);
    expect(ex.items.map((e) => [e.anchor, e.positive, e.label])).toEqual([
      ['query 1', 'doc A', 'A'],
      ['query 2', 'doc C', 'C'],
      ['query 3', 'doc B', 'B'],
    ]);
    expect(ex.items.map((e) => e.pairLabel)).toEqual([1, 0, 1]);
    for (const [i, e] of ex.items.entries()) {
      expect(corpus.map((d) => d.text)).toContain(e.negative);
      expect(e.negative).not.toBe(e.positive);
      expect(train[i]!.relevant.map((r) => `doc ${r}`)).not.toContain(e.negative);
    }
  });

  it('never draws a relevant document as a negative', async () => {
    const train = Array.from({ length: 50 }, (_, i) => q(`${i}`, ['A', 'B'], 'A'));
    const ex = await miner().mine(train, corpus);
    expect(new Set(ex.items.map((e) => e.negative))).toEqual(new Set(['doc C', 'doc D']));
  });

  it('is deterministic for a seed; the seed option overrides the context seed', async () => {
    const train = Array.from({ length: 30 }, (_, i) => q(`${i}`, ['A'], 'A'));
    const neg = async (m: RandomNegativeMiner) => (await m.mine(train, corpus)).items.map((e) => e.negative);
    expect(await neg(miner({}, 1))).toEqual(await neg(miner({}, 1)));
    expect(await neg(miner({}, 1))).not.toEqual(await neg(miner({}, 2)));
    expect(await neg(miner({ seed: 1 }, 7))).toEqual(await neg(miner({}, 1)));
  });

  it('negatives_per_anchor gives distinct negatives, capped at the documents available', async () => {
    const ex = await miner({ negatives_per_anchor: 2 }).mine([q('1', ['A'], 'A')], corpus);
    expect(ex.items).toHaveLength(2);
    expect(ex.items[0]!.negative).not.toBe(ex.items[1]!.negative);
    const all = await miner({ negatives_per_anchor: 10 }).mine([q('1', ['A'], 'A')], corpus);
    expect(all.items.map((e) => e.negative).sort()).toEqual(['doc B', 'doc C', 'doc D']);
  });

  it('explains queries it cannot mine', async () => {
    await expect(miner().mine([q('x', ['Z'], 'Z')], corpus)).rejects.toThrow(
      new UserError('E_DATA', 'miner random-negative: query x: its relevant document "Z" is not in the corpus'),
    );
    await expect(miner().mine([q('y', ['A', 'B', 'C', 'D'])], corpus)).rejects.toThrow(
      'miner random-negative: query y: every corpus document is relevant to it, so no negative can be drawn',
    );
  });
});

describeShared('miner random-negative on the transactions data', () => {
  it('gives one triplet per training row with the right positive', async () => {
    const ds = new JsonlDataset(
      { queries: `${TRANSACTIONS}/train_transactions.jsonl`, corpus: { path: `${TRANSACTIONS}/categories.json`, text: 'category' }, input: 'input', expected: 'expected' },
      makeContext(),
    );
    const data = await ds.load();
    const ex = await miner().mine(data.queries, data.corpus);
    expect(ex.items).toHaveLength(260);
    ex.items.forEach((e, i) => {
      expect(e.anchor).toBe(data.queries[i]!.text);
      expect(e.positive).toBe(data.queries[i]!.relevant[0]);
      expect(e.label).toBe(e.positive);
      expect(e.negative).not.toBe(e.positive);
    });
    // 260 draws over 26 candidates: most categories show up as negatives
    expect(new Set(ex.items.map((e) => e.negative)).size).toBeGreaterThan(20);
  });

  describe("the data's own negatives (explicit_negatives)", () => {
    const own: Query = { ...q('1', ['A'], 'A'), negatives: ['own X'], score: 0.25, teacher: [1.5] };

    it('first: each example\'s negatives are the query\'s own, then the random one; score and teacher passed on', async () => {
      const ex = await miner({ negatives_per_anchor: 2 }).mine([own], corpus);
      expect(ex.items).toHaveLength(2);
      for (const e of ex.items) {
        expect(e.negative).toBe('own X');
        expect(e.negatives).toHaveLength(2);
        expect(e.negatives![0]).toBe('own X');
        expect(['doc B', 'doc C', 'doc D']).toContain(e.negatives![1]);
        expect([e.score, e.teacher]).toEqual([0.25, [1.5]]);
      }
      expect(ex.items[0]!.negatives![1]).not.toBe(ex.items[1]!.negatives![1]);
    });

    it('replace: one example with the query\'s own negatives, no random one', async () => {
      expect((await miner({ negatives_per_anchor: 2, explicit_negatives: 'replace' }).mine([own], corpus)).items).toEqual([
        { anchor: 'query 1', positive: 'doc A', negative: 'own X', negatives: ['own X'], label: 'A', pairLabel: 1, score: 0.25, teacher: [1.5] },
      ]);
    });

    it('ignore: random negatives only', async () => {
      const items = (await miner({ explicit_negatives: 'ignore' }).mine([own], corpus)).items;
      expect(items.map((e) => e.negatives)).toEqual([undefined]);
      expect(['doc B', 'doc C', 'doc D']).toContain(items[0]!.negative);
    });
  });
});
