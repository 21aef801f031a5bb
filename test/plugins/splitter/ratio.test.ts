import { configAjv } from '../../../core/config/ajv.js';
import { describe, expect, it } from 'vitest';
import type { DatasetData, Query } from '../../../core/types.js';
import JsonlDataset from '../../../plugins/dataset/jsonl.js';
import RatioSplitter, { type RatioSplitterOptions } from '../../../plugins/splitter/ratio.js';
import { makeContext } from '../../helpers/context.js';
import { describeShared, TRANSACTIONS } from '../../helpers/shared.js';

function options(o: Partial<RatioSplitterOptions> = {}): RatioSplitterOptions {
  const copy: Record<string, unknown> = { ...o };
  const validate = configAjv({ useDefaults: true }).compile(RatioSplitter.schema);
  if (!validate(copy)) throw new Error(JSON.stringify(validate.errors));
  return copy as unknown as RatioSplitterOptions;
}
function queries(labels: string[]): Query[] {
  return labels.map((l, i) => ({ id: `q${i}`, text: `text ${i}`, relevant: [l], label: l }));
}
const ids = (qs: Query[]) => qs.map((q) => q.id);
const split = (o: Partial<RatioSplitterOptions>, data: DatasetData, seed = 42) => new RatioSplitter(options(o), makeContext({ seed })).split(data);

describe('splitter ratio', () => {
  const data: DatasetData = { queries: queries(Array.from({ length: 10 }, (_, i) => `L${i % 3}`)), corpus: [] };

  it('without shuffling, the first round(n·test) rows are the test part', () => {
    const r = split({ test: 0.3, shuffle: false }, data);
    expect(ids(r.test)).toEqual(['q0', 'q1', 'q2']);
    expect(ids(r.train)).toEqual(['q3', 'q4', 'q5', 'q6', 'q7', 'q8', 'q9']);
    expect(r.eval).toBe(r.test);
  });

  it('is deterministic for a seed, differs across seeds, and partitions the queries', () => {
    const a = split({ test: 0.3 }, data, 1);
    const b = split({ test: 0.3 }, data, 1);
    const c = split({ test: 0.3 }, data, 2);
    expect(ids(a.test)).toEqual(ids(b.test));
    expect(ids(a.train)).toEqual(ids(b.train));
    expect(ids(a.test)).not.toEqual(ids(c.test));
    expect(a.test).toHaveLength(3);
    expect([...ids(a.test), ...ids(a.train)].sort()).toEqual(ids(data.queries).sort());
    // the `seed` option overrides the context's
    expect(ids(split({ test: 0.3, seed: 1 }, data, 99).test)).toEqual(ids(a.test));
  });

  it('stratify keeps each label proportional', () => {
    // 20 A, 10 B, 5 C: test 0.2 → 4 A, 2 B, 1 C
    const qs = queries([...Array(20).fill('A'), ...Array(10).fill('B'), ...Array(5).fill('C')]);
    const count = (xs: Query[], l: string) => xs.filter((q) => q.label === l).length;
    for (const shuffle of [true, false]) {
      const r = split({ test: 0.2, stratify: true, shuffle }, { queries: qs, corpus: [] });
      expect([count(r.test, 'A'), count(r.test, 'B'), count(r.test, 'C')]).toEqual([4, 2, 1]);
      expect(r.train).toHaveLength(28);
    }
    // without shuffling: the first rows of each label, in file order
    expect(ids(split({ test: 0.2, stratify: true, shuffle: false }, { queries: qs, corpus: [] }).test)).toEqual(['q0', 'q1', 'q2', 'q3', 'q20', 'q21', 'q30']);
  });

  it('stratify hands the rounding remainder to the largest fractions', () => {
    // 3 A, 3 B, 2 C with test 0.5: round(4) = 4; floors 1+1+1, remainders .5 .5 0 → A gets the extra
    const qs = queries(['A', 'A', 'A', 'B', 'B', 'B', 'C', 'C']);
    const r = split({ test: 0.5, stratify: true, shuffle: false }, { queries: qs, corpus: [] });
    expect(ids(r.test)).toEqual(['q0', 'q1', 'q3', 'q6']);
  });

  it('uses the dataset eval set when there is one, else the test part, else the queries', () => {
    const evalSet = queries(['X']);
    expect(split({}, { ...data, eval: evalSet }).eval).toBe(evalSet);
    const tiny: DatasetData = { queries: queries(['A', 'B']), corpus: [] };
    const r = split({ test: 0.2 }, tiny); // round(0.4) = 0 test rows
    expect(r.test).toEqual([]);
    expect(r.eval).toBe(tiny.queries);
  });

  it('rejects a test fraction outside (0, 1)', () => {
    expect(() => options({ test: 1 })).toThrow();
    expect(() => options({ test: 0 })).toThrow();
    expect(options()).toEqual({ test: 0.2, shuffle: true, stratify: false });
  });
});

describeShared('splitter ratio on the transactions data', () => {
  it('shuffle: false reproduces the notebook: 52 test (first rows) / 208 train', async () => {
    const ds = new JsonlDataset({ queries: `${TRANSACTIONS}/train_transactions.jsonl`, input: 'input', expected: 'expected' }, makeContext());
    const data = await ds.load();
    const r = split({ shuffle: false }, data);
    expect(r.test).toHaveLength(52);
    expect(r.train).toHaveLength(208);
    expect(r.test[0]!.id).toBe('train_transactions.jsonl:1');
    expect(r.test[51]!.id).toBe('train_transactions.jsonl:52');
    expect(r.train[0]!.id).toBe('train_transactions.jsonl:53');
    const strat = split({ stratify: true }, data);
    expect(strat.test).toHaveLength(52);
    expect(new Set(strat.train.map((q) => q.label)).size).toBe(27);
  });
});
