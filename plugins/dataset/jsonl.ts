/**
 * dataset `jsonl`: queries (and an optional eval set) from JSONL files of
 * `{ input, expected }` records, and a corpus of documents from a JSON array or JSONL file —
 * or, without a corpus, the sorted set of expected labels (classification as retrieval).
 * Records may also say what is negative (`negatives`: a field holding a list, or the fields of
 * n-tuple columns), and carry a pair score (`score`) and teacher values (`teacher`).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { UserError } from '../../core/errors.js';
import { definePlugin } from '../../core/plugin.js';
import { displayPath, forEachRecord, readRecords, type DataRecord } from './jsonl/records.js';
import { corpusProblems } from '../common/corpus.js';
import { asProblem, assembleDataset, CORPUS_OPTION, recordFieldProperties, recordValuesOf, corpusSpec, forEachDoc, MissingLabels, negativeFields, noRecords, queryFromRecord, type CorpusSpec, type Located, type RecordFieldOptions } from '../common/records.js';
import type { CheckContext, DatasetData, DatasetPlugin, OptionProblem, Query, RecordSample, RunContext } from '../../core/types.js';

export type JsonlCorpusSpec = CorpusSpec;

export interface JsonlDatasetOptions extends RecordFieldOptions {
  queries: string;
  eval?: string;
  corpus?: string | JsonlCorpusSpec;
  limit?: number;
}

/** What validation reads of a data file to see its first record: the head of a JSONL file, or a JSON array that size. */
const HEAD_BYTES = 2 ** 20;

/**
 * The first record of a JSONL file, or the first element of a JSON array, when it is an object
 * (else undefined). Reads at most HEAD_BYTES: `run` reads the whole file.
 */
function firstRecord(file: string): { line: number; value: Record<string, unknown> } | undefined {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(HEAD_BYTES);
    const n = readSync(fd, buf, 0, HEAD_BYTES, 0);
    const text = buf.subarray(0, n).toString('utf8').replace(/^\uFEFF/, '');
    if (text.trimStart().startsWith('[')) {
      if (n === HEAD_BYTES) return undefined; // a larger JSON array: checked when run reads it
      const all = JSON.parse(text) as unknown;
      return Array.isArray(all) && isObject(all[0]) ? { line: 1, value: all[0] } : undefined;
    }
    const lines = text.split(/\r?\n/);
    const i = lines.findIndex((l) => l.trim() !== '');
    const v = i >= 0 ? (JSON.parse(lines[i]!) as unknown) : undefined;
    return isObject(v) ? { line: i + 1, value: v } : undefined;
  } catch {
    return undefined; // unreadable, truncated or not JSON: run reports it with its line
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export default definePlugin({
  stage: 'dataset',
  type: 'jsonl',
  description: 'Queries and eval queries from JSONL files of {input, expected}; corpus from a JSON/JSONL/CSV/Parquet file, a folder of text files, or the expected labels.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['queries'],
    properties: {
      queries: { type: 'string', minLength: 1, format: 'path', description: 'JSONL file of training/test queries (relative to the file that writes it).' },
      eval: { type: 'string', minLength: 1, format: 'path', description: 'JSONL file of evaluation queries (optional; otherwise the splitter decides).' },
      corpus: CORPUS_OPTION,
      ...recordFieldProperties('Field'),
    },
  },

  /**
   * The data files exist and are regular files; the fields the options name are in the first
   * record; and every record is read as `run` reads it (JSON, fields, types, duplicate corpus
   * ids, expected labels in the corpus), a chunk at a time: what would fail the run's data
   * loading fails `validate`, each file's first problem at the option that names it.
   */
  check(options: Record<string, unknown>, ctx: CheckContext): OptionProblem[] {
    return dataProblems(options as unknown as JsonlDatasetOptions, ctx);
  },

  valuesOf: recordValuesOf,

  /** The fields of the first record of `queries` (validation checks the fields other stages name). */
  sampleRecord(options: Record<string, unknown>, ctx: Pick<CheckContext, 'resolvePath'>): RecordSample | undefined {
    if (typeof options.queries !== 'string') return undefined;
    const file = ctx.resolvePath(options.queries);
    try {
      if (!statSync(file).isFile()) return undefined;
    } catch {
      return undefined; // check() reports the missing file
    }
    const first = firstRecord(file);
    return first ? { fields: Object.keys(first.value), where: `the first record of ${displayPath(file)} (line ${first.line})` } : undefined;
  },

  create: (options: JsonlDatasetOptions, ctx: RunContext) => new JsonlDataset(options, ctx),
});

class JsonlDataset implements DatasetPlugin {
  constructor(
    private readonly options: JsonlDatasetOptions,
    private readonly ctx: RunContext,
  ) {}

  async load(): Promise<DatasetData> {
    const o = this.options;
    const queries = await this.readQueries(o.queries, 'dataset.queries');
    const evalSet = o.eval !== undefined ? await this.readQueries(o.eval, 'dataset.eval') : undefined;
    const spec = o.corpus !== undefined ? corpusSpec(o.corpus) : undefined;
    return assembleDataset(queries, evalSet, spec, spec ? this.ctx.resolvePath(spec.path) : undefined);
  }

  private async readQueries(file: string, option: string): Promise<Located[]> {
    const path = this.ctx.resolvePath(file);
    let records = await readRecords(path, option);
    if (records.length === 0) throw noRecords(path);
    if (this.options.limit !== undefined) records = records.slice(0, this.options.limit);
    const base = basename(path);
    return records.map((r) => ({ query: queryOf(r, path, base, this.options), loc: `${displayPath(path)}:${r.line}` }));
  }
}

/** The query of record `r` of query file `path` (`base`: its file name, for ids); E_DATA naming the record's line. */
function queryOf(r: DataRecord, path: string, base: string, options: RecordFieldOptions): Query {
  return queryFromRecord(r.value, `${displayPath(path)}:${r.line}`, `${base}:${r.line}`, options);
}

/** What check() reports: see there. */
function dataProblems(options: JsonlDatasetOptions, ctx: CheckContext): OptionProblem[] {
  const corpus = options.corpus;
  const spec = corpus !== undefined ? corpusSpec(corpus) : undefined;
  const corpusAt = typeof corpus === 'object' ? ['corpus', 'path'] : ['corpus'];
  const files: Array<[Array<string | number>, string | undefined]> = [
    [['queries'], options.queries],
    [['eval'], options.eval],
    [corpusAt, spec?.path],
  ];
  const out: OptionProblem[] = [];
  const usable = new Set<string>();
  // A folder, CSV/TSV or Parquet corpus is checked by corpus.ts (a folder's ids are its files); a JSON/JSONL one here.
  const corpusCheck = corpus !== undefined ? corpusProblems(corpus, ctx) : undefined;
  for (const [path, value] of files) {
    if (typeof value !== 'string') continue;
    if (path[0] === 'corpus') {
      out.push(...corpusCheck!.problems);
      if (corpusCheck!.problems.length > 0 || corpusCheck!.format !== 'records') continue;
    }
    const file = ctx.resolvePath(value);
    let regular: boolean;
    try {
      regular = statSync(file).isFile();
    } catch {
      out.push({ path, message: `file not found: ${displayPath(file)}` });
      continue;
    }
    if (!regular) {
      out.push({ path, message: `not a regular file: ${displayPath(file)}` });
      continue;
    }
    // The fields the options name exist in the first record (named at the option that names them).
    const first = firstRecord(file);
    const need: Array<[Array<string | number>, string | undefined, string]> =
      path[0] === 'corpus'
        ? [[['corpus', 'text'], spec?.text ?? 'text', 'the document text'], [['corpus', 'id'], spec?.id, 'the document id']]
        : [
            [['input'], String(options.input ?? 'input'), 'the query text'],
            [['expected'], String(options.expected ?? 'expected'), 'the relevant ids'],
            [['label'], options.label, 'the class label'],
            ...negativeFields(options).map((f, i): [Array<string | number>, string, string] => [typeof options.negatives === 'string' ? ['negatives'] : ['negatives', i], f, 'negatives']),
            [['score'], options.score, 'the pair score'],
            [['teacher'], options.teacher, 'the teacher values'],
          ];
    let fieldsOk = true;
    for (const [opt, field, what] of first ? need : []) {
      if (field === undefined || Object.prototype.hasOwnProperty.call(first!.value, field)) continue;
      const present = Object.keys(first!.value);
      out.push({ path: opt, message: `field "${field}" (${what}) is not in the first record of ${displayPath(file)} (line ${first!.line}; fields present: ${present.join(', ') || 'none'})` });
      fieldsOk = false;
    }
    if (fieldsOk) usable.add(path[0] as string);
  }
  // Every record, as run reads it: the corpus first (its ids), then the query files against them.
  let missing: MissingLabels | undefined;
  let missingNegatives: MissingLabels | undefined;
  if (corpusCheck?.ids !== undefined && corpusCheck.problems.length === 0) {
    missing = new MissingLabels(corpusCheck.ids, corpusCheck.path);
    missingNegatives = new MissingLabels(corpusCheck.ids, corpusCheck.path, 'negatives');
  } else if (spec && usable.has('corpus')) {
    const path = ctx.resolvePath(spec.path);
    const ids: string[] = [];
    try {
      forEachDoc(path, spec.text ?? 'text', spec.id, (d) => ids.push(d.id));
      missing = new MissingLabels(ids, path);
      missingNegatives = new MissingLabels(ids, path, 'negatives');
    } catch (e) {
      out.push(asProblem(e, corpusAt));
    }
  }
  let queriesOk = true;
  for (const key of ['queries', 'eval'] as const) {
    const value = options[key];
    if (value === undefined || !usable.has(key)) {
      if (value !== undefined) queriesOk = false;
      continue;
    }
    const path = ctx.resolvePath(value);
    const base = basename(path);
    let n = 0;
    // run parses the whole file before it reads the fields: a syntax error anywhere comes first.
    let fieldError: unknown;
    try {
      forEachRecord(path, `dataset.${key}`, (r) => {
        n++;
        if (fieldError !== undefined || (options.limit !== undefined && n > options.limit)) return;
        try {
          const q = queryOf(r, path, base, options);
          missing?.add(q.relevant, `${displayPath(path)}:${r.line}`);
          if (q.negatives) missingNegatives?.add(q.negatives, `${displayPath(path)}:${r.line}`);
        } catch (e) {
          fieldError = e;
        }
      });
      if (n === 0) throw noRecords(path);
      if (fieldError !== undefined) throw fieldError;
    } catch (e) {
      out.push(asProblem(e, [key]));
      queriesOk = false;
    }
  }
  const labels = queriesOk ? missing?.message() : undefined;
  if (labels !== undefined) out.push(asProblem(new UserError('E_DATA', labels), corpusAt));
  const negatives = queriesOk ? missingNegatives?.message() : undefined;
  if (negatives !== undefined) out.push(asProblem(new UserError('E_DATA', negatives), ['negatives']));
  return out;
}
