/**
 * miner `none`: no mining. Each training query becomes one example of what the data says: its
 * text and class label (what the batch triplet losses need), the text of its first relevant
 * document as the positive (pairs), and the negatives, score and teacher values its record
 * carries (the dataset's `negatives`, `score`, `teacher`): n-tuples straight from the data.
 */
import { definePlugin } from '../../core/plugin.js';
import type { Doc, Example, Examples, ExampleShape, MinerPlugin, Query, RunContext } from '../../core/types.js';

export type NoneMinerOptions = Record<string, never>;

const PROVIDES: readonly ExampleShape[] = ['labelled', 'pairs', 'triplets'];

export default definePlugin({
  stage: 'miner',
  type: 'none',
  description:
    "No mining: the training queries as they are: labelled sentences (text + class label), pairs (text + its first relevant document) and, with the data's own negatives, triplets / n-tuples.",
  provides: PROVIDES,
  schema: { type: 'object', additionalProperties: false, properties: {} },
  create: (options: NoneMinerOptions, ctx: RunContext) => new NoneMiner(options, ctx),
});

class NoneMiner implements MinerPlugin {
  readonly provides: ExampleShape[] = [...PROVIDES];

  constructor(
    private readonly options: NoneMinerOptions,
    private readonly ctx: RunContext,
  ) {}

  /**
   * The shapes returned are those every example has: `labelled` when every query has a label,
   * `pairs` when every query's first relevant document is in the corpus, `triplets` when besides
   * every query has at least one negative of its own.
   */
  async mine(train: Query[], corpus: Doc[]): Promise<Examples> {
    const text = new Map(corpus.map((d) => [d.id, d.text]));
    const items = train.map((q): Example => {
      const label = q.label ?? q.relevant[0];
      const positive = q.relevant[0] !== undefined ? text.get(q.relevant[0]) : undefined;
      return {
        anchor: q.text,
        ...(label !== undefined ? { label } : {}),
        ...(positive !== undefined ? { positive } : {}),
        ...(q.negatives && q.negatives.length > 0 ? { negative: q.negatives[0]!, negatives: [...q.negatives] } : {}),
        ...(q.score !== undefined ? { score: q.score } : {}),
        ...(q.teacher !== undefined ? { teacher: [...q.teacher] } : {}),
      };
    });
    const unlabelled = items.filter((e) => e.label === undefined).length;
    if (unlabelled > 0) this.ctx.logger.warn(`miner none: ${unlabelled} of ${items.length} training queries have no label; the examples are not labelled`);
    const without = train.filter((q) => !q.negatives || q.negatives.length === 0);
    if (without.length > 0 && without.length < train.length) {
      this.ctx.logger.warn(
        `miner none: ${without.length} of ${train.length} training queries have no negatives of their own (first: ${without[0]!.id}), so the examples are not triplets, and a batch that holds one of them has no negative columns`,
      );
    }
    const shapes: ExampleShape[] = [];
    if (unlabelled === 0) shapes.push('labelled');
    if (items.every((e) => e.positive !== undefined)) {
      shapes.push('pairs');
      if (items.every((e) => e.negatives !== undefined)) shapes.push('triplets');
    }
    return { shapes, items };
  }
}
