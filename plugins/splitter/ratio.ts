/**
 * splitter `ratio`: holds out a fraction of the queries as the test part, optionally shuffled
 * (seeded) and stratified by label. With `shuffle: false` the first round(n·test) rows are the
 * test part, as the reference notebook did (260 rows, test 0.2 → 52 test / 208 train).
 */
import { createRng } from '../../core/rng.js';
import { definePlugin } from '../../core/plugin.js';
import type { DatasetData, IneffectiveOption, Query, RunContext, SplitResult, SplitterPlugin } from '../../core/types.js';

export interface RatioSplitterOptions {
  test: number;
  shuffle: boolean;
  stratify: boolean;
  seed?: number;
}

export default definePlugin({
  stage: 'splitter',
  type: 'ratio',
  description: 'Hold out a fraction of the queries as the test part (optionally shuffled and stratified by label).',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      test: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.2, description: 'Fraction of the queries held out as the test part.' },
      shuffle: { type: 'boolean', default: true, description: 'Shuffle (seeded) before splitting; false takes the first rows as the test part.' },
      stratify: { type: 'boolean', default: false, description: 'Split each label proportionally, so every label keeps its share in both parts.' },
      seed: { type: 'integer', description: "Seed for shuffling (default: the experiment's seed)." },
    },
  },

  /** The seed shuffles: without shuffling it has no effect. */
  ineffective(options: Record<string, unknown>): IneffectiveOption[] {
    return options.shuffle === false && options.seed !== undefined ? [{ path: ['seed'], because: 'it seeds the shuffle, and shuffle is false' }] : [];
  },

  create: (options: RatioSplitterOptions, ctx: RunContext) => new RatioSplitter(options, ctx),
});

class RatioSplitter implements SplitterPlugin {
  constructor(
    private readonly options: RatioSplitterOptions,
    private readonly ctx: RunContext,
  ) {}

  split(data: DatasetData): SplitResult {
    const { test: fraction, shuffle, stratify } = this.options;
    const n = data.queries.length;
    const identity = data.queries.map((_, i) => i);
    const order = shuffle ? createRng(this.options.seed ?? this.ctx.seed).shuffle(identity) : identity;
    const nTest = Math.round(n * fraction);

    const inTest = new Set<number>(stratify ? stratifiedPicks(data.queries, order, fraction, nTest) : order.slice(0, nTest));
    const test: Query[] = [];
    const train: Query[] = [];
    for (const i of order) (inTest.has(i) ? test : train).push(data.queries[i]!);
    if (train.length === 0) this.ctx.logger.warn(`splitter ratio: test ${fraction} of ${n} queries leaves no training queries`);
    return { train, test, eval: data.eval ?? (test.length > 0 ? test : data.queries) };
  }
}

/**
 * Per label (in `order`), the first quota of its rows: quotas are floor(size·fraction), the
 * remaining rows up to `nTest` going to the labels with the largest remainders (ties: the label
 * seen first).
 */
function stratifiedPicks(queries: Query[], order: number[], fraction: number, nTest: number): number[] {
  const groups = new Map<string, number[]>();
  for (const i of order) {
    const q = queries[i]!;
    const key = q.label ?? q.relevant[0] ?? '';
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  }
  const list = [...groups.values()].map((rows, rank) => {
    const exact = rows.length * fraction;
    return { rows, rank, quota: Math.floor(exact), rest: exact - Math.floor(exact) };
  });
  let left = nTest - list.reduce((s, g) => s + g.quota, 0);
  for (const g of [...list].sort((a, b) => b.rest - a.rest || a.rank - b.rank)) {
    if (left <= 0) break;
    if (g.quota < g.rows.length) {
      g.quota++;
      left--;
    }
  }
  return list.flatMap((g) => g.rows.slice(0, g.quota));
}
