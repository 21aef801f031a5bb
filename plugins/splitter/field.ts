/**
 * splitter `field`: each query names its own part in a record field (e.g. `"split": "test"`),
 * as in datasets that ship with a fixed split. Values other than the configured train/test/eval
 * names are an error that lists every value found.
 */
import { UserError } from '../../core/errors.js';
import { definePlugin } from '../../core/plugin.js';
import type { CheckContext, DatasetData, OptionProblem, Query, RunContext, SplitResult, SplitterPlugin } from '../../core/types.js';

export interface FieldSplitterOptions {
  field: string;
  train: string;
  test: string;
  eval: string;
}

const MISSING = '(missing)';

export default definePlugin({
  stage: 'splitter',
  type: 'field',
  description: 'Split by a record field whose value names the part (train, test or eval).',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['field'],
    properties: {
      field: { type: 'string', minLength: 1, description: 'Record field whose value names the part.' },
      train: { type: 'string', default: 'train', description: 'Value that marks a training query.' },
      test: { type: 'string', default: 'test', description: 'Value that marks a test query.' },
      eval: { type: 'string', default: 'eval', description: 'Value that marks an evaluation query.' },
    },
  },

  /** The field is in the dataset's first record (when the dataset can say without loading it). */
  check(options: Record<string, unknown>, ctx: CheckContext): OptionProblem[] {
    const sample = ctx.sampleRecord();
    const field = options.field;
    if (!sample || typeof field !== 'string' || sample.fields.includes(field)) return [];
    return [{ path: ['field'], message: `field "${field}" is not in the dataset's records (fields present in ${sample.where}: ${sample.fields.join(', ') || 'none'})` }];
  },

  create: (options: FieldSplitterOptions, ctx: RunContext) => new FieldSplitter(options, ctx),
});

class FieldSplitter implements SplitterPlugin {
  constructor(
    private readonly options: FieldSplitterOptions,
    private readonly ctx: RunContext,
  ) {}

  split(data: DatasetData): SplitResult {
    const { field } = this.options;
    const parts: Record<'train' | 'test' | 'eval', Query[]> = { train: [], test: [], eval: [] };
    const byValue = new Map<string, 'train' | 'test' | 'eval'>([
      [this.options.train, 'train'],
      [this.options.test, 'test'],
      [this.options.eval, 'eval'],
    ]);
    const counts = new Map<string, { n: number; first: string }>();
    for (const q of data.queries) {
      const v = q.fields?.[field];
      const value = v === undefined || v === null ? MISSING : typeof v === 'string' ? v : JSON.stringify(v);
      const c = counts.get(value);
      if (c) c.n++;
      else counts.set(value, { n: 1, first: q.id });
      const part = value === MISSING ? undefined : byValue.get(value);
      if (part) parts[part].push(q);
    }

    const unknown = [...counts.keys()].filter((v) => v === MISSING || !byValue.has(v));
    if (unknown.length > 0) {
      const show = (v: string) => (v === MISSING ? v : JSON.stringify(v));
      const found = [...counts.entries()].map(([v, c]) => `${show(v)} (${c.n})`).join(', ');
      const bad = unknown.map((v) => `${show(v)} (first: ${counts.get(v)!.first})`).join(', ');
      const allowed = [...byValue.keys()].map((v) => JSON.stringify(v)).join(', ');
      throw new UserError(
        'E_DATA',
        `splitter.field: field "${field}" has values that name no part: ${bad}. Values found: ${found}. ` +
          `Allowed: ${allowed} (set splitter.train/test/eval to map other values).`,
      );
    }

    if (data.eval !== undefined && parts.eval.length > 0) {
      this.ctx.logger.warn(`splitter field: ${parts.eval.length} queries marked "${this.options.eval}" are ignored; the dataset's eval set is used`);
    }
    const evalPart = data.eval ?? (parts.eval.length > 0 ? parts.eval : parts.test.length > 0 ? parts.test : data.queries);
    return { train: parts.train, test: parts.test, eval: evalPart };
  }
}
