/**
 * dataset `hf`: queries (and an optional eval set) from a Hugging Face hub dataset's Parquet
 * files, downloaded once into the Hugging Face cache (models' rules: HF_ENDPOINT, HF_TOKEN,
 * HF_HUB_OFFLINE) and read like local Parquet — the same fields as `parquet` and `jsonl` (input,
 * expected, label, negatives, score, teacher) as columns. The split `split` holds the queries,
 * `eval_split` (optional) the eval queries. Which files a config and split name: plugins/dataset/hf/hub.ts;
 * see docs/plugins/dataset/hf.md. The run records the revision and commit in env.json `dataset`.
 */
import { UserError } from '../../core/errors.js';
import { definePlugin } from '../../core/plugin.js';
import { displayPath } from './jsonl/records.js';
import { parquetRows } from './parquet.js';
import { HF_ID, resolveHfSplits, type HfParquet } from './hf/hub.js';
import { corpusProblems } from '../common/corpus.js';
import { assembleDataset, CORPUS_OPTION, corpusSpec, recordFieldProperties, recordValuesOf, type CorpusSpec, type Located, type RecordFieldOptions } from '../common/records.js';
import { readTable, type TableDatasetOptions } from '../common/table.js';
import type { CheckContext, DatasetData, DatasetPlugin, OptionProblem, RunContext } from '../../core/types.js';

export interface HfDatasetOptions extends RecordFieldOptions {
  id: string;
  config?: string;
  split: string;
  eval_split?: string;
  revision?: string;
  corpus?: string | CorpusSpec;
  limit?: number;
}

export default definePlugin({
  stage: 'dataset',
  type: 'hf',
  description: 'Queries and eval queries from a Hugging Face hub dataset (its Parquet files, downloaded once into the HF cache; columns as jsonl fields); corpus from a JSON/JSONL/CSV/Parquet file, a folder of text files, or the expected labels.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['id'],
    properties: {
      id: { type: 'string', minLength: 1, description: 'Hugging Face dataset id, "org/name".' },
      config: { type: 'string', minLength: 1, description: "The dataset's config (subset), e.g. triplet (default: the card's default config, else `default`, else the only one)." },
      split: { type: 'string', minLength: 1, default: 'train', description: 'Split of training/test queries.' },
      eval_split: { type: 'string', minLength: 1, description: 'Split of evaluation queries, e.g. test (optional; otherwise the splitter decides).' },
      revision: { type: 'string', minLength: 1, description: 'Branch, tag or commit sha of the dataset repository (default main); recorded in env.json with the commit it resolved to.' },
      corpus: CORPUS_OPTION,
      ...recordFieldProperties('Column', ' (a list column)'),
      limit: { type: 'integer', minimum: 1, description: 'Read only the first N queries of the split and of the eval split (quick runs).' },
    },
  },

  /** The option shapes, and a local corpus as every record dataset checks it (corpus.ts); no request (the hub is asked when the run loads the data). */
  check(options: Record<string, unknown>, ctx: CheckContext): OptionProblem[] {
    const o = options as unknown as HfDatasetOptions;
    const out: OptionProblem[] = [];
    if (o.corpus !== undefined) out.push(...corpusProblems(o.corpus, ctx).problems);
    if (typeof o.id === 'string' && !HF_ID.test(o.id)) out.push({ path: ['id'], message: `"${o.id}" is not a Hugging Face dataset id (expected "org/name", e.g. sentence-transformers/all-nli)` });
    if (o.eval_split !== undefined && o.eval_split === (o.split ?? 'train')) {
      out.push({ path: ['eval_split'], message: `is the training split ("${o.eval_split}"): name another split, or leave eval_split out to let the splitter decide` });
    }
    return out;
  },

  valuesOf: recordValuesOf,

  create: (options: HfDatasetOptions, ctx: RunContext) => new HfDataset(options, ctx),
});

class HfDataset implements DatasetPlugin {
  private resolved: HfParquet[] | undefined;

  constructor(
    private readonly options: HfDatasetOptions,
    private readonly ctx: RunContext,
  ) {}

  async load(): Promise<DatasetData> {
    const o = this.options;
    const split = o.split ?? 'train';
    const splits = o.eval_split !== undefined ? [split, o.eval_split] : [split];
    const ref = { id: o.id, split, ...(o.config !== undefined ? { config: o.config } : {}), ...(o.revision !== undefined ? { revision: o.revision } : {}) };
    this.resolved = await resolveHfSplits(ref, splits, { signal: this.ctx.signal, progress: this.ctx.progress, logger: this.ctx.logger });
    const table = o as unknown as TableDatasetOptions;
    const read = async (p: HfParquet, option: string): Promise<Located[]> => {
      const { located, rows } = await readTable(p.files, option, table, parquetRows, false);
      if (rows === 0) throw new UserError('E_DATA', `${option}: split "${p.split}" of ${p.id} (config ${p.config}) has no rows (${p.files.map(displayPath).join(', ')})`);
      return located;
    };
    const queries = await read(this.resolved[0]!, 'dataset.split');
    const evalSet = this.resolved[1] ? await read(this.resolved[1], 'dataset.eval_split') : undefined;
    const spec = o.corpus !== undefined ? corpusSpec(o.corpus) : undefined;
    return assembleDataset(queries, evalSet, spec, spec ? this.ctx.resolvePath(spec.path) : undefined);
  }

  /** The dataset, config, splits, the revision asked for and the commit it resolved to, and the repository files read. */
  info(): Record<string, unknown> {
    const r = this.resolved;
    if (!r) return { type: 'hf', id: this.options.id, revision: this.options.revision ?? 'main' }; // not loaded
    const [train, evalSplit] = r;
    const converted = r.find((p) => p.converted)?.converted;
    return {
      type: 'hf',
      id: train!.id,
      config: train!.config,
      split: train!.split,
      ...(evalSplit ? { eval_split: evalSplit.split } : {}),
      revision: train!.revision,
      commit: train!.commit,
      files: r.flatMap((p) => p.repoFiles),
      ...(converted ? { converted } : {}),
    };
  }
}
