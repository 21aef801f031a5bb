/**
 * miner `none`: no mining. Each training query becomes a labelled sentence (its text and class
 * label), which is what the batch triplet losses need; no pairs or triplets are formed.
 */
import { definePlugin } from '../../core/plugin.js';
import type { Doc, Examples, ExampleShape, MinerPlugin, Query, RunContext } from '../../core/types.js';

export type NoneMinerOptions = Record<string, never>;

const PROVIDES: readonly ExampleShape[] = ['labelled'];

export default definePlugin({
  stage: 'miner',
  type: 'none',
  description: 'No mining: the training queries as labelled sentences (text + class label).',
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

  async mine(train: Query[], _corpus: Doc[]): Promise<Examples> {
    const items = train.map((q) => ({ anchor: q.text, label: q.label ?? q.relevant[0] }));
    const unlabelled = items.filter((e) => e.label === undefined).length;
    if (unlabelled > 0) {
      this.ctx.logger.warn(`miner none: ${unlabelled} of ${items.length} training queries have no label; the examples are not labelled`);
      return { shapes: [], items: items.map((e) => ({ anchor: e.anchor })) };
    }
    return { shapes: [...PROVIDES], items: items.map((e) => ({ anchor: e.anchor, label: e.label! })) };
  }
}
