/**
 * dataset `synthetic-transactions`: seeded corporate-card transactions in the reference notebook's
 * text layout (Name, Category, Department, Location, Amount, Card, Trip Name), each labelled with
 * its expense category, over the taxonomy shipped in plugins/dataset/synthetic-transactions/taxonomy.ts. The corpus is the
 * category names; eval merchants never appear in training rows (plugins/dataset/synthetic-transactions/generate.ts).
 */
import { UserError } from '../../core/errors.js';
import { choices } from '../../core/config/messages.js';
import { formatTransaction, generateTransactions, TRANSACTION_FIELDS, type TransactionRecord } from './synthetic-transactions/generate.js';
import { CATEGORY_NAMES, TAXONOMY, type CategorySpec } from './synthetic-transactions/taxonomy.js';
import { definePlugin } from '../../core/plugin.js';
import type { DatasetData, DatasetPlugin, Query, RecordSample, RunContext } from '../../core/types.js';

export interface SyntheticTransactionsOptions {
  train: number;
  eval: number;
  seed?: number;
  categories?: string[];
  noise: number;
}

export default definePlugin({
  stage: 'dataset',
  type: 'synthetic-transactions',
  description:
    'Seeded synthetic corporate-card transactions labelled with their expense category (corpus: the category names); eval merchants never occur in training rows.',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      train: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 400, description: 'Number of training rows (the queries).' },
      eval: {
        type: 'integer',
        minimum: 0,
        maximum: 1_000_000,
        default: 100,
        description: 'Number of eval rows, with merchants never seen in training (0: no separate eval set; the splitter makes one).',
      },
      seed: { type: 'integer', description: "Generator seed (default: the experiment's seed)." },
      categories: {
        type: 'array',
        minItems: 2,
        uniqueItems: true,
        items: { type: 'string', enum: [...CATEGORY_NAMES] },
        description: 'Use only these categories (default: all of them).',
      },
      noise: {
        type: 'number',
        minimum: 0,
        maximum: 1,
        default: 0.15,
        description: 'How blurred rows are: borrowed merchants and descriptors of overlapping categories, abbreviations, off-program departments (0: clean).',
      },
    },
  },

  /** Every generated record has the same fields. */
  sampleRecord(): RecordSample {
    return { fields: [...TRANSACTION_FIELDS], where: 'every synthetic-transactions record' };
  },

  create: (options: SyntheticTransactionsOptions, ctx: RunContext) => new SyntheticTransactionsDataset(options, ctx),
});

class SyntheticTransactionsDataset implements DatasetPlugin {
  private readonly chosen: CategorySpec[];

  constructor(
    private readonly options: SyntheticTransactionsOptions,
    private readonly ctx: RunContext,
  ) {
    this.chosen = selectCategories(options.categories, ctx.configFile);
  }

  async load(): Promise<DatasetData> {
    const seed = this.options.seed ?? this.ctx.seed;
    const rows = generateTransactions(TAXONOMY, this.chosen, {
      train: this.options.train,
      eval: this.options.eval,
      seed,
      noise: this.options.noise,
    });
    const data: DatasetData = {
      queries: rows.train.map((r, i) => toQuery(r, `synthetic:train:${i + 1}`)),
      corpus: this.chosen.map((c) => ({ id: c.name, text: c.name })),
    };
    if (rows.eval.length > 0) data.eval = rows.eval.map((r, i) => toQuery(r, `synthetic:eval:${i + 1}`));
    this.ctx.logger.debug(
      `dataset synthetic-transactions: ${data.queries.length} train + ${rows.eval.length} eval rows over ${this.chosen.length} categories (seed ${seed})`,
    );
    return data;
  }
}

function toQuery(r: TransactionRecord, id: string): Query {
  return { id, text: formatTransaction(r), relevant: [r.expense_category], label: r.expense_category, fields: { ...r } };
}

/** The chosen categories in taxonomy order; unknown names are a config error with a did-you-mean. */
export function selectCategories(names: readonly string[] | undefined, configFile: string): CategorySpec[] {
  if (names === undefined) return [...TAXONOMY];
  const problems = names.flatMap((n, i) =>
    CATEGORY_NAMES.includes(n)
      ? []
      : [{ file: configFile, path: `dataset.categories[${i}]`, message: `unknown category "${n}". ${choices(n, CATEGORY_NAMES, 'Valid categories')}` }],
  );
  if (problems.length > 0) throw UserError.config(problems);
  const wanted = new Set(names);
  if (wanted.size < 2) {
    throw UserError.config([{ file: configFile, path: 'dataset.categories', message: 'needs at least 2 different categories (the corpus to retrieve from)' }]);
  }
  return TAXONOMY.filter((c) => wanted.has(c.name));
}
