/**
 * A miner plugin in TypeScript, as docs/writing-a-plugin.md shows it: one example per training
 * query — the query as anchor, the text of its (first) relevant document as positive, and a
 * random other document as negative — so that pair losses and triplet losses can both train on
 * them. Draws are seeded (the `seed` option, else the experiment's), so a run repeats exactly.
 * The test suite type-checks this file against the published types and trains with it through
 * the CLI (test/cli/loss-plugin.test.ts).
 */
import { definePlugin, UserError, type Doc, type Example, type Examples, type Query, type RunContext } from 'ftrun';

interface RelevantDocOptions {
  /** Seed of the negative draws (default: the experiment's `seed`). */
  seed?: number;
}

const TYPE = 'relevant-doc';

/** A small seeded generator of floats in [0, 1) (mulberry32). */
function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export default definePlugin<'miner', RelevantDocOptions>({
  stage: 'miner',
  type: TYPE,
  description: 'One (query, its relevant document, a random other document) example per training query: pairs and triplets.',
  // The shapes its examples can be read as; `validate` refuses a loss that needs another one.
  provides: ['pairs', 'triplets'],
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      seed: { type: 'integer', description: "Seed of the negative draws (default: the experiment's seed)." },
    },
  },
  create: (options: RelevantDocOptions, context: RunContext) => ({
    async mine(train: Query[], corpus: Doc[]): Promise<Examples> {
      const random = seededRandom(options.seed ?? context.seed);
      const byId = new Map(corpus.map((d) => [d.id, d]));
      const items: Example[] = train.map((q) => {
        const positive = byId.get(q.relevant[0] ?? '');
        if (!positive) throw new UserError('E_DATA', `miner ${TYPE}: query ${q.id} has no relevant document in the corpus`);
        const others = corpus.filter((d) => !q.relevant.includes(d.id));
        if (others.length === 0) throw new UserError('E_DATA', `miner ${TYPE}: every document is relevant to query ${q.id}, so none can be its negative`);
        const negative = others[Math.floor(random() * others.length)]!;
        return { anchor: q.text, positive: positive.text, negative: negative.text };
      });
      return { shapes: ['pairs', 'triplets'], items };
    },
  }),
});
