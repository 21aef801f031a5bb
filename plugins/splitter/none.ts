/**
 * splitter `none`: every query is a training query; there is no test part. Evaluation uses the
 * dataset's eval set, or — when it has none — the queries themselves (then the scores measure
 * fit to the training data, not generalisation).
 */
import { definePlugin } from '../../core/plugin.js';
import type { DatasetData, RunContext, SplitResult, SplitterPlugin } from '../../core/types.js';

export type NoneSplitterOptions = Record<string, never>;

export default definePlugin({
  stage: 'splitter',
  type: 'none',
  description: 'No split: all queries train; evaluation on the eval set (or on the queries themselves).',
  schema: { type: 'object', additionalProperties: false, properties: {} },
  create: (options: NoneSplitterOptions, ctx: RunContext) => new NoneSplitter(options, ctx),
});

class NoneSplitter implements SplitterPlugin {
  constructor(
    private readonly options: NoneSplitterOptions,
    private readonly ctx: RunContext,
  ) {}

  split(data: DatasetData): SplitResult {
    if (data.eval === undefined) {
      this.ctx.logger.warn('splitter none: the dataset has no eval set; evaluating on the training queries');
    }
    return { train: data.queries.slice(), test: [], eval: data.eval ?? data.queries };
  }
}
