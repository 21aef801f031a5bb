/**
 * miner `hard-negative`: ranks the corpus for each training query with the base encoder (cosine;
 * queries encoded as 'query', documents as 'document') and takes negatives from a rank window over
 * the non-relevant documents, as sentence-transformers' mine_hard_negatives does: of the top
 * range_max + max_positives documents, the relevant ones and those the false-negative guards remove
 * (absolute_margin: score + absolute_margin > positive_score; margin: score > positive_score −
 * |positive_score| · margin; max_score) leave, the survivors take ranks and ranks
 * [range_min, range_max) are the candidates; then the hardest (`sampling_strategy: top`) or a seeded random choice. Each
 * example is (query, its label's document, a negative, label), with `pairLabel` alternating 1/0
 * as in `random-negative`, so it serves triplet, pair, labelled and contrastive losses.
 * `model:` (a model spec, as the experiment's `model:` section) ranks with another encoder than the
 * base model, as sentence-transformers' mine_hard_negatives(model=…) takes any model.
 */
import { UserError } from '../../core/errors.js';
import { CORE_SCHEMAS, MODEL_SOURCES } from '../../core/config/envelope.js';
import { modelDirectoryProblems } from '../../core/config/checks.js';
import { createRng } from '../../core/rng.js';
import { definePlugin } from '../../core/plugin.js';
import { EXPLICIT_NEGATIVES_SCHEMA, withExplicit, type ExplicitNegatives } from '../common/explicit-negatives.js';
import type { CheckContext, Doc, Encoder, Example, Examples, ExampleShape, IneffectiveOption, MinerPlugin, ModelSpec, Query, RunContext, OptionProblem } from '../../core/types.js';

export interface HardNegativeOptions {
  range_min: number;
  range_max: number;
  margin: number;
  absolute_margin?: number;
  max_score?: number;
  num_negatives: number;
  output_format?: 'triplet' | 'n-tuple';
  sampling_strategy: 'top' | 'random';
  seed?: number;
  explicit_negatives: ExplicitNegatives;
  /** The model that ranks the corpus (default: the experiment's base model). */
  model?: ModelSpec;
}

const PROVIDES: readonly ExampleShape[] = ['triplets', 'pairs', 'labelled', 'labelled-pairs'];

export default definePlugin({
  stage: 'miner',
  type: 'hard-negative',
  description:
    'Triplets whose negatives are the documents the base model ranks highest among the non-relevant ones (rank window, false-negative margin).',
  provides: PROVIDES,
  /** The runner passes an Encoder to mine(): of `model:` when given, else the base model's. */
  needsEncoder: true,
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      range_min: { type: 'integer', minimum: 0, default: 0, description: 'First rank (0-based) among the non-relevant documents that may be a negative.' },
      range_max: {
        type: 'integer',
        minimum: 1,
        default: 10,
        description: 'End of the rank window (exclusive): negatives come from ranks range_min … range_max − 1.',
      },
      margin: {
        type: 'number',
        minimum: 0,
        exclusiveMaximum: 1,
        default: 0.05,
        description: "False-negative guard (sentence-transformers relative_margin): skip candidates scoring above positive_score − |positive_score| × margin. 0 turns it off.",
      },
      absolute_margin: {
        type: 'number',
        minimum: 0,
        description: 'False-negative guard (sentence-transformers absolute_margin): skip candidates with score + absolute_margin > positive_score. Unset: off.',
      },
      max_score: { type: 'number', description: 'Skip candidates scoring above max_score (sentence-transformers max_score). Unset: off.' },
      num_negatives: { type: 'integer', minimum: 1, default: 1, description: 'Negatives (examples) per training query.' },
      output_format: {
        type: 'string',
        enum: ['triplet', 'n-tuple'],
        default: 'triplet',
        description:
          "As sentence-transformers' output_format: triplet = one example per mined negative; n-tuple = one example per query holding its num_negatives negatives (negative_1 … negative_n; a query with fewer left is skipped).",
      },
      sampling_strategy: {
        type: 'string',
        enum: ['top', 'random'],
        default: 'top',
        description: 'top: the hardest candidates of the window first; random: a seeded random choice within the window.',
      },
      seed: { type: 'integer', description: "Seed for sampling_strategy: random (default: the experiment's seed)." },
      explicit_negatives: EXPLICIT_NEGATIVES_SCHEMA,
      model: {
        ...CORE_SCHEMAS.model,
        description:
          "The model that ranks the corpus for mining, a model spec as the experiment's `model:` section (a hub `id`, a local `path` or a `bundled` model, and the same overrides). Default: the experiment's base model.",
      },
    },
  },

  /** The rank window must hold at least one rank; `model:` must name one model that exists (checked by validate, before any model loads). */
  check: (options: Record<string, unknown>, context: Pick<CheckContext, 'resolvePath'>): OptionProblem[] => [...windowProblems(options), ...modelProblems(options, context)],

  /** The seed draws random samples: with sampling_strategy top it has no effect. */
  ineffective(options: Record<string, unknown>): IneffectiveOption[] {
    return options.sampling_strategy !== 'random' && options.seed !== undefined ? [{ path: ['seed'], because: `it seeds sampling_strategy random, and sampling_strategy is ${String(options.sampling_strategy)}` }] : [];
  },

  create: (options: HardNegativeOptions, ctx: RunContext) => new HardNegativeMiner(options, ctx),
});

/** The rank window must hold at least one rank. */
function windowProblems(options: Record<string, unknown>): OptionProblem[] {
  const min = Number(options.range_min ?? 0);
  const max = Number(options.range_max);
  return max <= min ? [{ path: ['range_max'], message: `must be greater than range_min (${min}), got ${max}: the window [range_min, range_max) would be empty` }] : [];
}

/** `model:`, when given, names exactly one source; a `path` is an existing directory whose max_position_embeddings fits max_seq_length. */
function modelProblems(options: Record<string, unknown>, context: Pick<CheckContext, 'resolvePath'>): OptionProblem[] {
  const model = options.model as ModelSpec | undefined;
  if (model === undefined) return [];
  const given = MODEL_SOURCES.filter((k) => model[k] !== undefined);
  if (given.length !== 1) {
    const what = given.length === 0 ? 'missing "id" (a hub model id), "path" (a model directory) or "bundled"' : `give only one of "id" (a hub model id), "path" (a model directory) or "bundled"; found ${given.map((g) => `"${g}"`).join(' and ')}`;
    return [{ path: ['model'], message: `${what} (the model that ranks the corpus; leave model out to rank with the base model)` }];
  }
  if (typeof model.path !== 'string') return [];
  return modelDirectoryProblems(context.resolvePath(model.path), model.max_seq_length).map(([path, message]) => ({ path, message }));
}

class HardNegativeMiner implements MinerPlugin {
  readonly provides: ExampleShape[] = [...PROVIDES];

  constructor(
    private readonly options: HardNegativeOptions,
    private readonly ctx: RunContext,
  ) {
    const [problem] = windowProblems(options as unknown as Record<string, unknown>);
    if (problem) throw UserError.config([{ file: ctx.configFile, path: 'miner.range_max', message: problem.message }]);
  }

  async mine(train: Query[], corpus: Doc[], encoder?: Encoder): Promise<Examples> {
    if (!encoder) {
      throw new Error('miner hard-negative needs an encoder (the base model, or its model:) to rank documents: mine(train, corpus, encoder) was called without one');
    }
    const { range_min, range_max, num_negatives, sampling_strategy: sampling } = this.options;
    const margin = this.options.margin;
    const index = new Map(corpus.map((d, i) => [d.id, i]));
    const rng = createRng(this.options.seed ?? this.ctx.seed);

    const texts = [...new Set(train.map((q) => q.text))];
    const qVec = new Map<string, Float32Array>();
    (await encoder.encode(texts, { kind: 'query' })).forEach((v, i) => qVec.set(texts[i]!, normalized(v)));
    const dVec = (await encoder.encode(corpus.map((d) => d.text), { kind: 'document' })).map(normalized);

    const items: Example[] = [];
    let skipped = 0;
    // as sentence-transformers: the pool is the top range_max + max_positives documents (positives included)
    const maxPositives = Math.max(1, ...train.map((q) => new Set(q.relevant.filter((r) => index.has(r))).size));
    const pool = range_max + maxPositives;
    const removed = { absolute_margin: 0, margin: 0, max_score: 0 };
    const { absolute_margin, max_score } = this.options;
    for (const q of train) {
      if (this.ctx.signal.aborted) throw new Error('miner hard-negative: aborted');
      const label = q.label ?? q.relevant[0];
      if (label === undefined) throw new UserError('E_DATA', `miner hard-negative: query ${q.id} has no relevant document`);
      const posId = index.has(label) ? label : q.relevant[0];
      const pos = posId !== undefined ? index.get(posId) : undefined;
      if (pos === undefined) {
        throw new UserError('E_DATA', `miner hard-negative: query ${q.id}: its relevant document "${posId ?? label}" is not in the corpus`);
      }
      const explicit = this.options.explicit_negatives ?? 'first';
      if (explicit === 'replace' && q.negatives && q.negatives.length > 0) {
        items.push(withExplicit({ anchor: q.text, positive: corpus[pos]!.text, label, pairLabel: items.length % 2 === 0 ? 1 : 0 }, q, 'replace'));
        continue;
      }
      const relevant = new Set([pos, ...q.relevant.map((r) => index.get(r)).filter((i): i is number => i !== undefined)]);
      const v = qVec.get(q.text)!;
      const scores = dVec.map((d) => dot(v, d));
      // the pool, best first (ties by corpus order); relevant documents leave it, then the guards
      // (absolute margin, relative margin, max_score, each counted) — then the rank window over what is left
      const order = corpus.map((_, i) => i);
      order.sort((a, b) => scores[b]! - scores[a]! || a - b);
      // with several relevant documents the guards use the lowest-scoring one, as sentence-transformers does
      const posScore = Math.min(...[...relevant].map((i) => scores[i]!));
      const relLimit = posScore - Math.abs(posScore) * margin;
      const left = order.slice(0, pool).filter((i) => {
        if (relevant.has(i)) return false;
        const s = scores[i]!;
        if (absolute_margin !== undefined && s + absolute_margin > posScore) return removed.absolute_margin++, false;
        if (margin > 0 && s > relLimit) return removed.margin++, false;
        if (max_score !== undefined && s > max_score) return removed.max_score++, false;
        return true;
      });
      const candidates = left.slice(0, range_max).slice(range_min);
      if (candidates.length === 0) {
        // a query with negatives of its own still makes an example from them
        if (explicit !== 'ignore' && q.negatives && q.negatives.length > 0) {
          items.push(withExplicit({ anchor: q.text, positive: corpus[pos]!.text, label, pairLabel: items.length % 2 === 0 ? 1 : 0 }, q, explicit));
          continue;
        }
        skipped++;
        continue;
      }
      const nTuple = this.options.output_format === 'n-tuple';
      if (nTuple && candidates.length < num_negatives) {
        skipped++;
        continue;
      }
      const k = Math.min(num_negatives, candidates.length);
      // a random sample is resorted hardest first, as sentence-transformers does
      const chosen = sampling === 'random' ? rng.sample(candidates, k).sort((a, b) => scores[b]! - scores[a]! || a - b) : candidates.slice(0, k);
      if (nTuple) {
        // one example, its negatives the query's own (unless ignore) then the mined ones, hardest first as ST resorts them
        const mined = chosen.map((i) => corpus[i]!.text);
        const e = withExplicit({ anchor: q.text, positive: corpus[pos]!.text, negative: mined[0]!, label, pairLabel: items.length % 2 === 0 ? 1 : 0 }, q, explicit);
        e.negatives = [...(explicit === 'ignore' ? [] : (q.negatives ?? [])), ...mined];
        e.negative = e.negatives[0]!;
        items.push(e);
        continue;
      }
      for (const neg of chosen) {
        items.push(withExplicit({ anchor: q.text, positive: corpus[pos]!.text, negative: corpus[neg]!.text, label, pairLabel: items.length % 2 === 0 ? 1 : 0 }, q, explicit));
      }
    }
    this.ctx.logger.info(
      `miner hard-negative: the false-negative guards removed ${removed.absolute_margin} candidates by absolute_margin, ` +
        `${removed.margin} by margin, ${removed.max_score} by max_score (pool: the top ${pool} documents per query)`,
    );
    const nTupleNeed = this.options.output_format === 'n-tuple' && num_negatives > 1;
    if (skipped > 0 && items.length === 0) {
      throw new UserError(
        'E_DATA',
        `miner hard-negative: no training query has ${nTupleNeed ? `${num_negatives} negatives (output_format n-tuple)` : 'a negative'} left in ranks [${range_min}, ${range_max})` +
          (margin > 0 ? ` under the margin guard (${margin}): lower miner.margin or widen the window` : ': widen the window'),
      );
    }
    if (skipped > 0) {
      this.ctx.logger.warn(
        `miner hard-negative: skipped ${skipped} of ${train.length} queries with ${nTupleNeed ? `fewer than ${num_negatives} negatives (output_format n-tuple)` : 'no negative'} left in ranks [${range_min}, ${range_max})` +
          (margin > 0 ? ` after the margin guard (${margin})` : ''),
      );
    }
    const stats = {
      removed_by_absolute_margin: removed.absolute_margin,
      removed_by_margin: removed.margin,
      removed_by_max_score: removed.max_score,
      skipped_queries: skipped,
    };
    return { shapes: [...PROVIDES], items, stats };
  }
}

function normalized(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const n = Math.sqrt(s);
  if (n === 0) return v;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / n;
  return out;
}

function dot(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`miner hard-negative: encoder returned vectors of different sizes (${a.length} and ${b.length})`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
