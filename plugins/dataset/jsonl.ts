/**
 * dataset `jsonl`: queries (and an optional eval set) from JSONL files of
 * `{ input, expected }` records, and a corpus of documents from a JSON array or JSONL file —
 * or, without a corpus, the sorted set of expected labels (classification as retrieval).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { didYouMean, UserError } from '../../core/errors.js';
import { definePlugin } from '../../core/plugin.js';
import { asObject, displayPath, readRecords, requireField, typeName, type DataRecord } from './jsonl/records.js';
import type { CheckContext, DatasetData, DatasetPlugin, Doc, OptionProblem, Query, RecordSample, RunContext } from '../../core/types.js';

export interface JsonlCorpusSpec {
  path: string;
  text?: string;
  id?: string;
}

export interface JsonlDatasetOptions {
  queries: string;
  eval?: string;
  corpus?: string | JsonlCorpusSpec;
  input: string;
  expected: string;
  label?: string;
  limit?: number;
}

/** A query plus where it came from, for messages. */
interface Located {
  query: Query;
  loc: string;
}

const MAX_LISTED = 5;

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
  description: 'Queries and eval queries from JSONL files of {input, expected}; corpus from a JSON/JSONL file or the expected labels.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['queries'],
    properties: {
      queries: { type: 'string', minLength: 1, format: 'path', description: 'JSONL file of training/test queries (relative to the file that writes it).' },
      eval: { type: 'string', minLength: 1, format: 'path', description: 'JSONL file of evaluation queries (optional; otherwise the splitter decides).' },
      corpus: {
        description:
          'Documents to retrieve: a path (JSON array of strings/objects, or JSONL), or {path, text, id}. `text` defaults to "text"; `id` defaults to the text. Without a corpus, the sorted expected labels are the corpus.',
        oneOf: [
          { type: 'string', minLength: 1, format: 'path' },
          {
            type: 'object',
            additionalProperties: false,
            required: ['path'],
            properties: {
              path: { type: 'string', minLength: 1, format: 'path', description: 'Corpus file.' },
              text: { type: 'string', minLength: 1, description: 'Field holding the document text (default "text").' },
              id: { type: 'string', minLength: 1, description: 'Field holding the document id (default: the text).' },
            },
          },
        ],
      },
      input: { type: 'string', minLength: 1, default: 'input', description: 'Field holding the query text.' },
      expected: { type: 'string', minLength: 1, default: 'expected', description: 'Field holding the relevant document id(s): a string or a list of strings.' },
      label: { type: 'string', minLength: 1, description: 'Field holding the class label (default: the first expected id).' },
      limit: { type: 'integer', minimum: 1, description: 'Read only the first N queries of each file (quick runs).' },
    },
  },

  /** The data files exist and are regular files (read by `run`; `validate` checks them too). */
  check(options: Record<string, unknown>, ctx: CheckContext): OptionProblem[] {
    const corpus = options.corpus;
    const files: Array<[Array<string | number>, unknown]> = [
      [['queries'], options.queries],
      [['eval'], options.eval],
      typeof corpus === 'object' && corpus !== null ? [['corpus', 'path'], (corpus as { path?: unknown }).path] : [['corpus'], corpus],
    ];
    const out: OptionProblem[] = [];
    for (const [path, value] of files) {
      if (typeof value !== 'string') continue;
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
      // The fields the options name exist in the first record (the rest is read by run).
      const first = firstRecord(file);
      if (!first) continue;
      const need: Array<[Array<string | number>, string | undefined, string]> =
        path[0] === 'corpus'
          ? [[['corpus', 'text'], typeof corpus === 'object' && corpus !== null ? ((corpus as { text?: string }).text ?? 'text') : 'text', 'the document text'], [['corpus', 'id'], typeof corpus === 'object' && corpus !== null ? (corpus as { id?: string }).id : undefined, 'the document id']]
          : [[['input'], String(options.input ?? 'input'), 'the query text'], [['expected'], String(options.expected ?? 'expected'), 'the relevant ids'], [['label'], options.label as string | undefined, 'the class label']];
      for (const [opt, field, what] of need) {
        if (field === undefined || Object.prototype.hasOwnProperty.call(first.value, field)) continue;
        const present = Object.keys(first.value);
        out.push({ path: opt, message: `field "${field}" (${what}) is not in the first record of ${displayPath(file)} (line ${first.line}; fields present: ${present.join(', ') || 'none'})` });
      }
    }
    return out;
  },

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
    const all = evalSet ? [...queries, ...evalSet] : queries;

    let corpus: Doc[];
    if (o.corpus !== undefined) {
      const spec = typeof o.corpus === 'string' ? { path: o.corpus } : o.corpus;
      const path = this.ctx.resolvePath(spec.path);
      corpus = await readCorpus(path, spec.text ?? 'text', spec.id);
      checkLabels(all, corpus, path);
    } else {
      const labels = [...new Set(all.flatMap((q) => q.query.relevant))].sort();
      corpus = labels.map((l) => ({ id: l, text: l }));
    }
    return {
      queries: queries.map((q) => q.query),
      ...(evalSet ? { eval: evalSet.map((q) => q.query) } : {}),
      corpus,
    };
  }

  private async readQueries(file: string, option: string): Promise<Located[]> {
    const path = this.ctx.resolvePath(file);
    let records = await readRecords(path, option);
    if (records.length === 0) throw new UserError('E_DATA', `${displayPath(path)}: no records`);
    if (this.options.limit !== undefined) records = records.slice(0, this.options.limit);
    const base = basename(path);
    return records.map((r) => ({ query: this.toQuery(r, path, base), loc: `${displayPath(path)}:${r.line}` }));
  }

  private toQuery(r: DataRecord, path: string, base: string): Query {
    const { input, expected, label } = this.options;
    const loc = `${displayPath(path)}:${r.line}`;
    const rec = asObject(r.value, loc);
    const text = requireField(rec, input, loc, 'dataset.input');
    if (typeof text !== 'string') throw new UserError('E_DATA', `${loc}: field "${input}" must be a string, got ${typeName(text)}`);
    const exp = requireField(rec, expected, loc, 'dataset.expected');
    const relevant = typeof exp === 'string' ? [exp] : exp;
    if (!Array.isArray(relevant) || relevant.some((x) => typeof x !== 'string')) {
      throw new UserError('E_DATA', `${loc}: field "${expected}" must be a string or a list of strings, got ${typeName(exp)}`);
    }
    if (relevant.length === 0) throw new UserError('E_DATA', `${loc}: field "${expected}" is an empty list`);
    let lab: string = relevant[0] as string;
    if (label !== undefined) {
      // Messages start with the option, so they are located at dataset.label in the experiment file.
      let v: unknown;
      try {
        v = requireField(rec, label, loc, 'dataset.label');
      } catch (e) {
        throw e instanceof UserError ? new UserError(e.code, `dataset.label: ${e.message}`) : e;
      }
      if (typeof v !== 'string' && typeof v !== 'number') {
        throw new UserError('E_DATA', `dataset.label: ${loc}: field "${label}" must be a string or a number, got ${typeName(v)}`);
      }
      lab = String(v);
    }
    return { id: `${base}:${r.line}`, text, relevant: relevant as string[], label: lab, fields: rec };
  }
}

async function readCorpus(path: string, textField: string, idField: string | undefined): Promise<Doc[]> {
  const records = await readRecords(path, 'dataset.corpus');
  if (records.length === 0) throw new UserError('E_DATA', `${displayPath(path)}: no records`);
  const docs: Doc[] = [];
  const firstLine = new Map<string, number>();
  for (const r of records) {
    const loc = `${displayPath(path)}:${r.line}`;
    let doc: Doc;
    if (typeof r.value === 'string') {
      doc = { id: r.value, text: r.value };
    } else if (typeof r.value === 'object' && r.value !== null && !Array.isArray(r.value)) {
      const rec = r.value as Record<string, unknown>;
      const text = requireField(rec, textField, loc, 'dataset.corpus.text');
      if (typeof text !== 'string') throw new UserError('E_DATA', `${loc}: field "${textField}" must be a string, got ${typeName(text)}`);
      let id = text;
      if (idField !== undefined) {
        const v = requireField(rec, idField, loc, 'dataset.corpus.id');
        if (typeof v !== 'string' && typeof v !== 'number') {
          throw new UserError('E_DATA', `${loc}: field "${idField}" must be a string or a number, got ${typeName(v)}`);
        }
        id = String(v);
      }
      doc = { id, text };
    } else {
      throw new UserError('E_DATA', `${loc}: expected a string or an object, got ${typeName(r.value)}`);
    }
    const first = firstLine.get(doc.id);
    if (first !== undefined) throw new UserError('E_DATA', `${loc}: duplicate document id "${doc.id}" (first at line ${first})`);
    firstLine.set(doc.id, r.line);
    docs.push(doc);
  }
  return docs;
}

/** Every expected id must be a corpus id; lists the first few offenders with suggestions. */
function checkLabels(queries: Located[], corpus: Doc[], corpusPath: string): void {
  const ids = corpus.map((d) => d.id);
  const known = new Set(ids);
  const bad: string[] = [];
  for (const { query, loc } of queries) {
    for (const r of query.relevant) {
      if (known.has(r)) continue;
      const hint = didYouMean(r, ids);
      bad.push(`  ${loc}: "${r}"${hint !== undefined ? ` (did you mean "${hint}"?)` : ''}`);
    }
  }
  if (bad.length === 0) return;
  const n = bad.length;
  const lines = [
    `dataset.corpus: ${n} expected label${n === 1 ? ' is' : 's are'} not in the corpus (${displayPath(corpusPath)}, ${corpus.length} documents):`,
    ...bad.slice(0, MAX_LISTED),
  ];
  if (n > MAX_LISTED) lines.push(`  … and ${n - MAX_LISTED} more`);
  throw new UserError('E_DATA', lines.join('\n'));
}
