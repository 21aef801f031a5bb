/**
 * miner `random-negative` (the reference notebook's): for each training query, the anchor is its
 * text, the positive is the text of its label's corpus document, and the negative is a random
 * (seeded) other corpus document — one that is not relevant to the query. The examples carry
 * the label too, so they serve label-based, pair and triplet losses alike; `pairLabel` alternates
 * 1/0 so that contrastive losses read them as (anchor, positive, 1) / (anchor, negative, 0) pairs.
 */
import { UserError } from '../../core/errors.js';
import { createRng } from '../../core/rng.js';
import { definePlugin } from '../../core/plugin.js';
import { EXPLICIT_NEGATIVES_SCHEMA, withExplicit, type ExplicitNegatives } from '../common/explicit-negatives.js';
import type { Doc, Example, Examples, ExampleShape, MinerPlugin, Query, RunContext } from '../../core/types.js';

export interface RandomNegativeOptions {
  negatives_per_anchor: number;
  seed?: number;
  explicit_negatives: ExplicitNegatives;
}

const PROVIDES: readonly ExampleShape[] = ['labelled', 'triplets', 'pairs', 'labelled-pairs'];

export default definePlugin({
  stage: 'miner',
  type: 'random-negative',
  description: "Triplets (query, its label's document, a random other document), also usable as pairs, labelled pairs and labelled sentences.",
  provides: PROVIDES,
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      negatives_per_anchor: {
        type: 'integer',
        minimum: 1,
        default: 1,
        description: 'Examples per query, each with a different random negative (capped at the number of non-relevant documents).',
      },
      seed: { type: 'integer', description: "Seed for drawing negatives (default: the experiment's seed)." },
      explicit_negatives: EXPLICIT_NEGATIVES_SCHEMA,
    },
  },
  create: (options: RandomNegativeOptions, ctx: RunContext) => new RandomNegativeMiner(options, ctx),
});

class RandomNegativeMiner implements MinerPlugin {
  readonly provides: ExampleShape[] = [...PROVIDES];

  constructor(
    private readonly options: RandomNegativeOptions,
    private readonly ctx: RunContext,
  ) {}

  async mine(train: Query[], corpus: Doc[]): Promise<Examples> {
    const rng = createRng(this.options.seed ?? this.ctx.seed);
    const index = new Map(corpus.map((d, i) => [d.id, i]));
    const items: Example[] = [];
    for (const q of train) {
      const label = q.label ?? q.relevant[0];
      if (label === undefined) throw new UserError('E_DATA', `miner random-negative: query ${q.id} has no relevant document`);
      const explicit = this.options.explicit_negatives ?? 'first';
      // the positive: the label's document when the label is a corpus id, else the first relevant one
      const posId = index.has(label) ? label : q.relevant[0];
      const pos = posId !== undefined ? index.get(posId) : undefined;
      if (pos === undefined) {
        throw new UserError('E_DATA', `miner random-negative: query ${q.id}: its relevant document "${posId ?? label}" is not in the corpus`);
      }
      if (explicit === 'replace' && q.negatives && q.negatives.length > 0) {
        items.push(withExplicit({ anchor: q.text, positive: corpus[pos]!.text, label, pairLabel: items.length % 2 === 0 ? 1 : 0 }, q, 'replace'));
        continue;
      }
      const excluded = new Set<number>([pos]);
      for (const r of q.relevant) {
        const i = index.get(r);
        if (i !== undefined) excluded.add(i);
      }
      const available = corpus.length - excluded.size;
      if (available === 0) {
        throw new UserError('E_DATA', `miner random-negative: query ${q.id}: every corpus document is relevant to it, so no negative can be drawn`);
      }
      const k = Math.min(this.options.negatives_per_anchor, available);
      for (let j = 0; j < k; j++) {
        let neg: number;
        do neg = rng.int(corpus.length);
        while (excluded.has(neg));
        excluded.add(neg);
        // pairLabel alternates 1/0 so contrastive losses see (anchor, positive) and (anchor, negative) pairs equally often
        items.push(withExplicit({ anchor: q.text, positive: corpus[pos]!.text, negative: corpus[neg]!.text, label, pairLabel: items.length % 2 === 0 ? 1 : 0 }, q, explicit));
      }
    }
    return { shapes: [...PROVIDES], items };
  }
}
