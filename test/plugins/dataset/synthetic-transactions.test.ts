import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configAjv } from '../../../core/config/ajv.js';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../core/errors.js';
import { formatAmount, merchantNames, partitionMerchants } from '../../../plugins/dataset/synthetic-transactions/generate.js';
import { CATEGORY_NAMES, DEPARTMENTS, TAXONOMY } from '../../../plugins/dataset/synthetic-transactions/taxonomy.js';
import type { DatasetData, Query } from '../../../core/types.js';
import SyntheticTransactionsDataset, { type SyntheticTransactionsOptions } from '../../../plugins/dataset/synthetic-transactions.js';
import { makeContext } from '../../helpers/context.js';
import { describeShared, TRANSACTIONS } from '../../helpers/shared.js';

/** The layout of the reference rows' `input`. */
const ROW = /^\nName : [^\n]+\nCategory: [^\n]+\nDepartment: [^\n]+\nLocation: [^\n]+\nAmount: \d+\.\d{1,2}\nCard: [^\n]+\nTrip Name: [^\n]+\n$/;

function withDefaults(o: Record<string, unknown>): SyntheticTransactionsOptions {
  const validate = configAjv({ allErrors: true, useDefaults: true }).compile(SyntheticTransactionsDataset.schema);
  const copy = structuredClone(o);
  if (!validate(copy)) throw new Error(JSON.stringify(validate.errors));
  return copy as unknown as SyntheticTransactionsOptions;
}
const load = (o: Record<string, unknown> = {}, seed = 42): Promise<DatasetData> =>
  new SyntheticTransactionsDataset(withDefaults(o), makeContext({ seed })).load();
const merchants = (qs: Query[] = []) => new Set(qs.map((q) => q.fields!.merchant_name as string));

describeShared('the reference rows', () => {
  it('all match the layout the generator writes', () => {
    const rows = readFileSync(join(TRANSACTIONS, 'train_transactions.jsonl'), 'utf8').trim().split('\n');
    expect(rows.length).toBeGreaterThan(100);
    for (const line of rows) expect((JSON.parse(line) as { input: string }).input).toMatch(ROW);
  });
});

describe('dataset synthetic-transactions', () => {
  it('has a strict schema with defaults; category names are an enum', () => {
    expect(withDefaults({})).toEqual({ train: 400, eval: 100, noise: 0.15 });
    const validate = configAjv().compile(SyntheticTransactionsDataset.schema);
    expect(validate({ categories: ['Airfare', 'Insurance'] })).toBe(true);
    expect(validate({ categories: ['Airfair', 'Insurance'] })).toBe(false);
    expect(validate({ noise: 1.5 })).toBe(false);
    expect(validate({ train: 0 })).toBe(false);
  });

  it('ships a taxonomy of at least 20 categories with enough merchants, overlaps that exist and ambiguous names', () => {
    expect(TAXONOMY.length).toBeGreaterThanOrEqual(20);
    expect(new Set(CATEGORY_NAMES).size).toBe(TAXONOMY.length);
    const owners = new Map<string, number>();
    for (const c of TAXONOMY) {
      expect(merchantNames(c).length, c.name).toBeGreaterThanOrEqual(15);
      expect(c.descriptors.length, c.name).toBeGreaterThanOrEqual(4);
      expect(c.amount[0], c.name).toBeLessThan(c.amount[1]);
      for (const o of c.overlaps) expect(CATEGORY_NAMES, `${c.name} overlaps ${o}`).toContain(o);
      for (const n of merchantNames(c)) owners.set(n, (owners.get(n) ?? 0) + 1);
    }
    expect([...owners.values()].filter((k) => k > 1).length).toBeGreaterThan(10);
  });

  it('produces the default counts in the reference layout, labelled with corpus categories', async () => {
    const data = await load();
    expect(data.queries).toHaveLength(400);
    expect(data.eval).toHaveLength(100);
    expect(data.corpus.map((d) => d.id)).toEqual([...CATEGORY_NAMES]);
    for (const d of data.corpus) expect(d.text).toBe(d.id);
    const ids = new Set<string>();
    for (const q of [...data.queries, ...data.eval!]) {
      expect(q.text).toMatch(ROW);
      expect(q.relevant).toEqual([q.label]);
      expect(CATEGORY_NAMES).toContain(q.label);
      expect(q.fields!.expense_category).toBe(q.label);
      expect(q.text).toContain(`\nName : ${q.fields!.merchant_name as string}\n`);
      expect(q.text).toContain(`\nAmount: ${formatAmount(q.fields!.amount as number)}\n`);
      ids.add(q.id);
    }
    expect(ids.size).toBe(500);
    // balanced: every category is in the eval set, trips appear for travel-like spend only
    expect(new Set(data.eval!.map((q) => q.label)).size).toBe(CATEGORY_NAMES.length);
    const trips = data.queries.filter((q) => q.fields!.trip_name !== null);
    expect(trips.length).toBeGreaterThan(10);
    expect(data.queries.some((q) => q.text.endsWith('\nTrip Name: unknown\n'))).toBe(true);
    for (const q of trips) expect(TAXONOMY.find((c) => c.name === q.label)!.tripRate ?? 0).toBeGreaterThan(0);
  });

  it('never uses an eval merchant in a training row, for several seeds and full noise', async () => {
    for (const [seed, noise] of [[1, 0.15], [2, 1], [3, 0]] as const) {
      const data = await load({ train: 600, eval: 200, noise }, seed);
      const train = merchants(data.queries);
      const overlap = [...merchants(data.eval)].filter((m) => train.has(m));
      expect(overlap, `seed ${seed}`).toEqual([]);
    }
  });

  it('partitions each shared merchant name into the same part for every category that lists it', () => {
    const pools = partitionMerchants(TAXONOMY, 7);
    const partOf = new Map<string, string>();
    for (const pool of pools.values()) {
      expect(pool.train.length).toBeGreaterThan(0);
      expect(pool.eval.length).toBeGreaterThan(0);
      for (const part of ['train', 'eval'] as const) {
        for (const n of pool[part]) {
          expect(partOf.get(n) ?? part, n).toBe(part);
          partOf.set(n, part);
        }
      }
    }
  });

  it('is deterministic for a seed and differs for another; the seed option overrides the experiment seed', async () => {
    const texts = (d: DatasetData) => [...d.queries, ...d.eval!].map((q) => q.text);
    const a = await load({ train: 50, eval: 20 }, 5);
    expect(texts(await load({ train: 50, eval: 20 }, 5))).toEqual(texts(a));
    expect(texts(await load({ train: 50, eval: 20 }, 6))).not.toEqual(texts(a));
    expect(texts(await load({ train: 50, eval: 20, seed: 5 }, 99))).toEqual(texts(a));
  });

  it('with noise 0 every field comes from the category itself; with noise, some rows are blurred', async () => {
    const clean = await load({ train: 300, eval: 0, noise: 0 });
    expect(clean.eval).toBeUndefined();
    for (const q of clean.queries) {
      const spec = TAXONOMY.find((c) => c.name === q.label)!;
      expect(merchantNames(spec)).toContain(q.fields!.merchant_name);
      for (const d of q.fields!.merchant_category as string[]) expect(spec.descriptors).toContain(d);
      expect(spec.departments).toContain(q.fields!.department);
    }
    const noisy = await load({ train: 300, eval: 0, noise: 0.5 });
    const foreign = noisy.queries.filter((q) => {
      const spec = TAXONOMY.find((c) => c.name === q.label)!;
      return (q.fields!.merchant_category as string[]).some((d) => !spec.descriptors.includes(d)) || !merchantNames(spec).includes(q.fields!.merchant_name as string);
    });
    expect(foreign.length).toBeGreaterThan(30);
    for (const q of noisy.queries) expect(DEPARTMENTS).toContain(q.fields!.department);
  });

  it('restricts to a category subset', async () => {
    const chosen = ['Software & Licenses', 'Airfare', 'Insurance'];
    const data = await load({ train: 30, eval: 9, categories: chosen });
    expect(data.corpus.map((d) => d.id)).toEqual(['Airfare', 'Software & Licenses', 'Insurance']);
    expect(new Set(data.queries.map((q) => q.label))).toEqual(new Set(chosen));
    expect(new Set(data.eval!.map((q) => q.label))).toEqual(new Set(chosen));
  });

  it('rejects unknown category names with a did-you-mean and the valid names', () => {
    const make = (categories: string[]) => () =>
      new SyntheticTransactionsDataset({ train: 10, eval: 0, noise: 0, categories }, makeContext({ configFile: '/x/exp.yaml' }));
    expect(make(['Airfair', 'Insurance'])).toThrow(UserError);
    try {
      make(['Airfair', 'Insurance', 'Nope'])();
    } catch (e) {
      const err = e as UserError;
      expect(err.code).toBe('E_CONFIG');
      expect(err.problems.map((p) => p.path)).toEqual(['dataset.categories[0]', 'dataset.categories[2]']);
      expect(err.message).toContain('/x/exp.yaml dataset.categories[0]: unknown category "Airfair". Did you mean "Airfare"?');
      expect(err.message).toContain('Valid categories: Airfare, Hotels & Lodging');
    }
    expect(make(['Airfare', 'Airfare'])).toThrow(/at least 2 different categories/);
  });
});
