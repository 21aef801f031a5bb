/**
 * dataset `generate`: training queries written by an OpenAI-compatible model (OpenAI, vLLM,
 * llama.cpp's server, Ollama) for each document of a corpus — the start of the reference
 * notebook's, LlamaIndex's and the bge fine-tuning tutorial's stories: a bare corpus, no queries.
 *
 * Each document is chunked when long (generate/chunk.ts; the chunks are the corpus), and each
 * chunk gets `queries_per_document` requests, one per sample index (robust on servers without
 * `n`), through the generation cache (generate/cache.ts) with bounded concurrency and retries
 * (generate/llm.ts, generate/generate-queries.ts). The queries are written to the run directory
 * as generated.jsonl (records the `jsonl` dataset reads with the same corpus); each query's
 * relevant document is the one it was written from. Real evaluation queries may come from `eval`.
 * See docs/plugins/dataset/generate.md.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/fsutil.js';
import { definePlugin } from '../../core/plugin.js';
import { GENERATED_CORPUS_JSONL, GENERATED_JSONL } from '../../core/run/records.js';
import { redactUrl } from '../../core/url.js';
import type { CheckContext, DatasetData, DatasetPlugin, DatasetServices, Doc, ModelSpec, OptionProblem, Query, RunContext } from '../../core/types.js';
import { CORE_SCHEMAS, MODEL_SOURCES } from '../../core/config/envelope.js';
import { corpusProblems } from '../common/corpus.js';
import { CORPUS_OPTION, corpusSpec, MissingLabels, noRecords, queryFromRecord, readCorpus, type CorpusSpec } from '../common/records.js';
import { displayPath, readRecords } from './jsonl/records.js';
import { defaultCacheDir, GenerationCache } from './generate/cache.js';
import { chunkCorpus, type ChunkOptions } from './generate/chunk.js';
import { describeCounts, generateQueries, type Candidate, type GenerationCounts } from './generate/generate-queries.js';
import type { LlmOptions } from './generate/llm.js';
import { dropCopiedSpans, dropDuplicates, dropNearDuplicates, dropRoundTripMisses } from './generate/filters.js';
import { DEFAULT_PROMPT } from './generate/prompt.js';

export interface GenerateEvalSpec {
  path: string;
  input: string;
  expected: string;
}

export interface GenerateDatasetOptions {
  corpus: string | CorpusSpec;
  llm: LlmOptions;
  queries_per_document: number;
  prompt?: string;
  chunk: ChunkOptions;
  eval?: string | GenerateEvalSpec;
  cache_dir?: string;
  filters: FilterOptions;
}

export interface FilterOptions {
  duplicates: boolean;
  near_duplicates: number | false;
  copied_span: number | false;
  round_trip?: { model: ModelSpec; k: number };
}

/** The generated set, as load() returns it and `ftrun dataset generate` writes it. */
export interface GeneratedSet {
  data: DatasetData;
  /** generated.jsonl's lines. */
  records: Array<{ input: string; expected: string[]; sample: number }>;
  /** The chunked corpus when a document was split (generated_corpus.jsonl), else undefined. */
  chunkedCorpus?: Doc[];
  info: Record<string, unknown>;
}

const EVAL_OPTION = {
  description:
    'Real evaluation queries (optional): a JSONL file of {input, expected} records read as the jsonl dataset reads its eval, expected naming corpus ids; or {path, input, expected} naming the fields. Without it the splitter takes the eval queries from the generated ones.',
  oneOf: [
    { type: 'string', minLength: 1, format: 'path' },
    {
      type: 'object',
      additionalProperties: false,
      required: ['path'],
      properties: {
        path: { type: 'string', minLength: 1, format: 'path', description: 'JSONL file of evaluation queries.' },
        input: { type: 'string', minLength: 1, description: 'Field holding the query text (default "input").' },
        expected: { type: 'string', minLength: 1, description: 'Field holding the relevant corpus id(s): a string or a list of strings (default "expected").' },
      },
    },
  ],
};

export default definePlugin({
  stage: 'dataset',
  type: 'generate',
  description: 'Training queries written for each document of a corpus by an OpenAI-compatible chat model (cached, retried); real eval queries from a JSONL file.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['corpus', 'llm'],
    properties: {
      corpus: CORPUS_OPTION,
      llm: {
        type: 'object',
        additionalProperties: false,
        required: ['base_url', 'model'],
        description: 'The OpenAI-compatible chat-completions server that writes the queries: POST {base_url}/chat/completions.',
        properties: {
          base_url: { type: 'string', minLength: 1, description: 'The API root, e.g. http://localhost:11434/v1 (Ollama), http://localhost:8000/v1 (vLLM), https://api.openai.com/v1.' },
          model: { type: 'string', minLength: 1, description: 'The model name the server knows, e.g. llama3.1, gpt-4o-mini.' },
          api_key: { type: 'string', description: 'Sent as "Authorization: Bearer <key>"; give it as ${env:NAME}. Never written to the run directory or the output.' },
          temperature: { type: 'number', minimum: 0, maximum: 2, default: 0.7, description: 'Sampling temperature.' },
          max_tokens: { type: 'integer', minimum: 1, default: 128, description: 'The most tokens one answer may hold.' },
          timeout_s: { type: 'number', exclusiveMinimum: 0, default: 60, description: 'Seconds one request may take before it is abandoned (and retried).' },
          concurrency: { type: 'integer', minimum: 1, maximum: 256, default: 4, description: 'Requests in flight at once.' },
          retries: { type: 'integer', minimum: 0, maximum: 20, default: 4, description: 'Retries of a request that got a 429, a 5xx, a timeout or a lost connection (exponential backoff with jitter; Retry-After honoured).' },
        },
      },
      queries_per_document: { type: 'integer', minimum: 1, maximum: 100, default: 3, description: 'Queries asked for each document (chunk): one request per query.' },
      prompt: { type: 'string', minLength: 1, description: 'The prompt template: {document} (required), {index} (1 … queries_per_document), {n} (queries_per_document). Default: a LlamaIndex-style prompt asking for one search query.' },
      chunk: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description: 'Long documents are split into chunks of max_words words overlapping by overlap words; the chunks (ids <id>#1, <id>#2, …) become the corpus.',
        properties: {
          max_words: { type: 'integer', minimum: 1, default: 256, description: 'Words per chunk; a document of at most this many words stays whole.' },
          overlap: { type: 'integer', minimum: 0, default: 32, description: 'Words a chunk shares with the previous one (less than max_words).' },
        },
      },
      eval: EVAL_OPTION,
      cache_dir: { type: 'string', minLength: 1, format: 'path', description: 'Where answers are cached (default: $FTRUN_CACHE/generations, else $XDG_CACHE_HOME/ftrun/generations, else ~/.cache/ftrun/generations).' },
      filters: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description: 'Generated queries dropped before training, in this order, each reporting how many it removed (plugins/dataset/generate/filters.ts has the exact rules).',
        properties: {
          duplicates: { type: 'boolean', default: true, description: 'Drop exact duplicates (after normalising case, whitespace and surrounding punctuation); the first is kept.' },
          near_duplicates: {
            oneOf: [{ type: 'number', exclusiveMinimum: 0, maximum: 1 }, { enum: [false] }],
            default: 0.9,
            description: 'Drop a query whose word-bigram Jaccard similarity to an earlier kept query is at least this; false: keep them.',
          },
          copied_span: {
            oneOf: [{ type: 'integer', minimum: 1 }, { enum: [false] }],
            default: 10,
            description: 'Drop a query that repeats this many consecutive words of its document; false: keep them.',
          },
          round_trip: {
            type: 'object',
            additionalProperties: false,
            required: ['model'],
            description: 'Keep a query only when this model retrieves its document within the top k (off unless given).',
            properties: {
              model: { ...CORE_SCHEMAS.model, description: "The model that ranks the corpus, a model spec as the experiment's `model:` section (a hub `id`, a local `path` or a `bundled` model)." },
              k: { type: 'integer', minimum: 1, default: 5, description: 'The rank within which the source document must come.' },
            },
          },
        },
      },
    },
  },

  /** The corpus exists (a folder with documents; a CSV/Parquet file with the columns named), the eval file exists, the prompt has {document}, the chunk overlap is less than its size. */
  check(options: Record<string, unknown>, ctx: CheckContext): OptionProblem[] {
    const o = options as unknown as GenerateDatasetOptions;
    const out: OptionProblem[] = [];
    out.push(...corpusProblems(o.corpus, ctx).problems); // a file or a folder (plugins/common/corpus.ts)
    if (o.eval !== undefined) {
      const e = evalSpec(o.eval);
      const file = ctx.resolvePath(e.path);
      const at = typeof o.eval === 'string' ? ['eval'] : ['eval', 'path'];
      if (!existsSync(file)) out.push({ path: at, message: `file not found: ${displayPath(file)}` });
      else if (!statSync(file).isFile()) out.push({ path: at, message: `not a regular file: ${displayPath(file)}` });
    }
    // Checked here, not by a schema pattern: the editor schema sees ${env:…} before it is interpolated.
    if (!/^https?:\/\/[^/\s]/.test(o.llm.base_url)) {
      out.push({ path: ['llm', 'base_url'], message: `"${redactUrl(o.llm.base_url)}" is not an http:// or https:// URL; e.g. http://localhost:11434/v1 (Ollama), http://localhost:8000/v1 (vLLM), https://api.openai.com/v1` });
    }
    if (o.prompt !== undefined && !o.prompt.includes('{document}')) {
      out.push({ path: ['prompt'], message: 'the prompt has no {document} placeholder (where the document text goes); placeholders: {document}, {index}, {n}' });
    }
    const chunk = o.chunk ?? { max_words: 256, overlap: 32 };
    if (chunk.overlap >= chunk.max_words) out.push({ path: ['chunk', 'overlap'], message: `must be less than chunk.max_words (${chunk.max_words}), got ${chunk.overlap}` });
    return out;
  },

  create: (options: GenerateDatasetOptions, ctx: RunContext) => new GenerateDataset(options, ctx),
});

const evalSpec = (e: string | GenerateEvalSpec): GenerateEvalSpec => (typeof e === 'string' ? { path: e, input: 'input', expected: 'expected' } : { path: e.path, input: e.input ?? 'input', expected: e.expected ?? 'expected' });

export class GenerateDataset implements DatasetPlugin {
  private facts?: Record<string, unknown>;

  constructor(
    private readonly options: GenerateDatasetOptions,
    private readonly ctx: RunContext,
  ) {}

  async load(services?: DatasetServices): Promise<DatasetData> {
    const set = await this.generate(services);
    writeGeneratedSet(set, join(this.ctx.runDir, GENERATED_JSONL), join(this.ctx.runDir, GENERATED_CORPUS_JSONL));
    return set.data;
  }

  info(): Record<string, unknown> {
    return this.facts ?? {};
  }

  /** The generated set (nothing written but the cache). */
  async generate(services?: DatasetServices): Promise<GeneratedSet> {
    const o = this.options;
    const spec = corpusSpec(o.corpus);
    const corpusPath = this.ctx.resolvePath(spec.path);
    const docs = await readCorpus(corpusPath, spec.text ?? 'text', spec.id, spec.extensions);
    const { chunks, of } = chunkCorpus(docs, o.chunk);
    const evalSet = o.eval !== undefined ? await this.readEval(evalSpec(o.eval), docs, corpusPath, of) : undefined;

    const cacheDir = o.cache_dir !== undefined ? this.ctx.resolvePath(o.cache_dir) : defaultCacheDir();
    const { candidates, counts } = await generateQueries({
      chunks,
      llm: o.llm,
      prompt: o.prompt ?? DEFAULT_PROMPT,
      queriesPerDocument: o.queries_per_document,
      cache: new GenerationCache(cacheDir),
      ctx: this.ctx,
    });
    const { kept, removed } = await this.filter(candidates, chunks, services);
    if (kept.length === 0) {
      throw new UserError('E_DATA', `dataset.llm: no query was generated for the ${chunks.length} documents (${describeCounts(counts)}); see the answers with --verbose`);
    }
    const records = kept.map((c) => ({ input: c.text, expected: [c.source], sample: c.sample + 1 }));
    const queries: Query[] = records.map((r, i) => ({ id: `${GENERATED_JSONL}:${i + 1}`, text: r.input, relevant: r.expected, label: r.expected[0]!, fields: { ...r } }));
    this.facts = { ...this.describe(docs.length, chunks.length, counts, kept, cacheDir), filters: removed };
    const what: Record<string, string> = { duplicates: 'duplicates', near_duplicates: 'near duplicates', copied_span: 'copying their document', round_trip: 'round-trip misses' };
    const filtered = Object.entries(removed).map(([k, n]) => `${n} ${what[k]}`);
    this.ctx.logger.info(
      `generate: ${kept.length} queries for ${chunks.length} documents${chunks.length !== docs.length ? ` (${docs.length} before chunking)` : ''} from ${o.llm.model}: ${describeCounts(counts)}` +
        (filtered.length ? `; filters removed ${filtered.join(', ')}` : ''),
    );
    return {
      data: { queries, ...(evalSet ? { eval: evalSet } : {}), corpus: chunks },
      records,
      ...(chunks.length !== docs.length ? { chunkedCorpus: chunks } : {}),
      info: this.facts,
    };
  }

  /** The filters the options turn on, in order; how many each removed. */
  private async filter(candidates: Candidate[], corpus: Doc[], services: DatasetServices | undefined): Promise<{ kept: Candidate[]; removed: Record<string, number> }> {
    const f = this.options.filters;
    const removed: Record<string, number> = {};
    let kept = candidates;
    const apply = (name: string, r: { kept: Candidate[]; removed: Candidate[] }) => {
      removed[name] = r.removed.length;
      kept = r.kept;
    };
    if (f.duplicates) apply('duplicates', dropDuplicates(kept));
    if (f.near_duplicates !== false) apply('near_duplicates', dropNearDuplicates(kept, f.near_duplicates));
    if (f.copied_span !== false) apply('copied_span', dropCopiedSpans(kept, f.copied_span));
    if (f.round_trip) {
      if (!services) throw new Error('dataset generate: filters.round_trip needs the run to lend an encoder (DatasetServices)');
      const spec = f.round_trip.model.path !== undefined ? { ...f.round_trip.model, path: this.ctx.resolvePath(f.round_trip.model.path) } : f.round_trip.model;
      const source = MODEL_SOURCES.find((k) => spec[k] !== undefined);
      const encoder = await services.loadEncoder(spec, 'round_trip', `dataset.filters.round_trip.model${source ? '.' + source : ''}`);
      try {
        apply('round_trip', await dropRoundTripMisses(kept, corpus, encoder, f.round_trip.k));
      } finally {
        await services.release(encoder);
      }
    }
    return { kept, removed };
  }

  /** env.json `dataset`: the model and server (never the key), the counts. */
  private describe(documents: number, chunks: number, counts: GenerationCounts, kept: Candidate[], cacheDir: string): Record<string, unknown> {
    const { wanted: _wanted, ...rest } = counts;
    return {
      type: 'generate',
      model: this.options.llm.model,
      base_url: redactUrl(this.options.llm.base_url),
      documents,
      chunks,
      queries_per_document: this.options.queries_per_document,
      ...rest,
      queries: kept.length,
      cache_dir: cacheDir,
    };
  }

  /** The eval queries; expected ids are corpus ids (a chunked document's become all its chunks). */
  private async readEval(e: GenerateEvalSpec, docs: Doc[], corpusPath: string, of: Map<string, string[]>): Promise<Query[]> {
    const path = this.ctx.resolvePath(e.path);
    const records = await readRecords(path, 'dataset.eval');
    if (records.length === 0) throw noRecords(path);
    const base = basename(path);
    const missing = new MissingLabels(
      docs.map((d) => d.id),
      corpusPath,
    );
    const out = records.map((r) => {
      const loc = `${displayPath(path)}:${r.line}`;
      let q: Query;
      try {
        q = queryFromRecord(r.value, loc, `${base}:${r.line}`, { input: e.input, expected: e.expected });
      } catch (err) {
        // The eval file's fields are named by dataset.eval.input / .expected here.
        if (!(err instanceof UserError)) throw err;
        throw new UserError(err.code, err.message.replace(/set dataset\.(input|expected) /, 'set dataset.eval.$1 '));
      }
      missing.add(q.relevant, loc);
      return q;
    });
    missing.throwIfAny();
    for (const q of out) q.relevant = q.relevant.flatMap((id) => of.get(id) ?? [id]);
    return out;
  }
}

const jsonl = (rows: readonly unknown[]): string => rows.map((r) => JSON.stringify(r) + '\n').join('');

/** Write a generated set: its queries to `file`, and (when a document was chunked) the chunked corpus they name to `corpusFile`, which is returned then. */
export function writeGeneratedSet(set: GeneratedSet, file: string, corpusFile: string): string | undefined {
  writeFileAtomic(file, jsonl(set.records));
  if (!set.chunkedCorpus) return undefined;
  writeFileAtomic(corpusFile, jsonl(set.chunkedCorpus));
  return corpusFile;
}
