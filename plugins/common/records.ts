/**
 * What the tabular and line datasets (`jsonl`, `csv`, `parquet`) share: a record (an object of
 * fields or columns) → a query (input, expected, label, negatives, score, teacher), the corpus
 * (a JSON/JSONL file here; a folder, CSV/TSV or Parquet file by corpus.ts; or the expected
 * labels), expected ids missing from the corpus, and data errors as option problems. Each
 * reader gives records with a location (`file:line` or `file:row N`) and an id
 * (`<file>:<line or row>`).
 */
import { didYouMean, UserError } from '../../core/errors.js';
import { asObject, displayPath, forEachRecord, requireField, typeName, type DataRecord } from '../dataset/jsonl/records.js';
import { corpusFormat, readFolder, readTableCorpus } from './corpus.js';
import type { DatasetData, Doc, ExampleValue, OptionProblem, Query } from '../../core/types.js';

/** The `corpus` option of every record dataset (jsonl, csv, parquet, hf, generate): a file or folder, or `{path, text, id, extensions}`; see plugins/common/corpus.ts. */
export const CORPUS_OPTION = {
  description:
    'Documents to retrieve: a file — JSON array of strings/objects, JSONL, CSV/TSV (.csv, .tsv) or Parquet (.parquet), one document a record or row — or a folder of text files (every .txt and .md file under it, hidden ones skipped; id: the path in the folder), or {path, text, id, extensions}. `text` defaults to "text"; `id` defaults to the text. Without a corpus, the sorted expected labels are the corpus.',
  oneOf: [
    { type: 'string', minLength: 1, format: 'path' },
    {
      type: 'object',
      additionalProperties: false,
      required: ['path'],
      properties: {
        path: { type: 'string', minLength: 1, format: 'path', description: 'Corpus file or folder.' },
        text: { type: 'string', minLength: 1, description: 'Field (column) of a corpus file holding the document text (default "text").' },
        id: { type: 'string', minLength: 1, description: 'Field (column) of a corpus file holding the document id (default: the text).' },
        extensions: {
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { type: 'string', pattern: '^\\.?[A-Za-z0-9_+-]+$' },
          description: 'For a folder: the extensions of the files that are documents, e.g. [.txt, .md, .rst] (default [.txt, .md]; case-insensitive).',
        },
      },
    },
  ],
};

/**
 * The options schema's properties that say which field of a record is what, shared by every record
 * dataset: `unit` is what a record is made of (`Field` in JSONL, `Column` in a table), `listNote`
 * how a table holds a list (` (a list column, or a JSON array in a CSV cell)`).
 */
export function recordFieldProperties(unit: 'Field' | 'Column', listNote = ''): Record<string, unknown> {
  const u = unit.toLowerCase();
  return {
    input: { type: 'string', minLength: 1, default: 'input', description: `${unit} holding the query text.` },
    expected: { type: 'string', minLength: 1, default: 'expected', description: `${unit} holding the relevant document id(s): a string or a list of strings${listNote}.` },
    label: { type: 'string', minLength: 1, description: `${unit} holding the class label (default: the first expected id).` },
    negatives: {
      description: `Hard negatives from the data: a ${u} holding a list of negatives (or one), e.g. hard_negatives, or a list of ${u}s each holding one, e.g. [negative_1, negative_2] (n-tuple columns). With a corpus they are corpus ids; without one they are texts, and join the corpus.`,
      oneOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1 } },
      ],
    },
    score: { type: 'string', minLength: 1, description: `${unit} holding a float score of the (query, first expected document) pair, for score losses (CoSENT, AnglE).` },
    teacher: { type: 'string', minLength: 1, description: `${unit} holding teacher values for distillation: a number (a margin) or a list of numbers.` },
    limit: { type: 'integer', minimum: 1, description: 'Read only the first N queries of each file (quick runs).' },
  };
}

/** The per-example values the queries of a record dataset carry: a score and teacher values when `score` / `teacher` name their fields. */
export function recordValuesOf(options: Record<string, unknown>): ExampleValue[] {
  return (['score', 'teacher'] as const).filter((k) => options[k] !== undefined);
}

export interface CorpusSpec {
  path: string;
  text?: string;
  id?: string;
  /** A folder's document extensions (default FOLDER_EXTENSIONS). */
  extensions?: string[];
}

/** The options that say which field of a record is what. */
export interface RecordFieldOptions {
  input: string;
  expected: string;
  label?: string;
  /** Field holding a list of negatives (or one), or the fields of n-tuple columns (negative_1 … negative_n). */
  negatives?: string | string[];
  /** Field holding the pair's float score. */
  score?: string;
  /** Field holding the teacher values: a number (a margin) or a list of numbers. */
  teacher?: string;
}

/** The fields `negatives` names, in order. */
export const negativeFields = (o: Pick<RecordFieldOptions, 'negatives'>): string[] => (o.negatives === undefined ? [] : typeof o.negatives === 'string' ? [o.negatives] : o.negatives);

/** A query plus where it came from, for messages. */
export interface Located {
  query: Query;
  loc: string;
}

const MAX_LISTED = 5;

export const noRecords = (path: string) => new UserError('E_DATA', `${displayPath(path)}: no records`);

export const corpusSpec = (corpus: string | CorpusSpec): CorpusSpec => (typeof corpus === 'string' ? { path: corpus } : corpus);

/** The query of record `value` (at `loc`, for messages; `id`: the query's id); E_DATA naming `loc`. */
export function queryFromRecord(value: unknown, loc: string, id: string, options: RecordFieldOptions): Query {
  const { input, expected, label } = options;
  const rec = asObject(value, loc);
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
  const query: Query = { id, text, relevant: relevant as string[], label: lab, fields: rec };
  const negFields = negativeFields(options);
  if (negFields.length > 0) {
    const negatives: string[] = [];
    for (const f of negFields) {
      const v = requireField(rec, f, loc, 'dataset.negatives');
      const list = typeof v === 'string' ? [v] : v;
      if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) {
        throw new UserError('E_DATA', `${loc}: field "${f}" (negatives) must be a string or a list of strings, got ${describeList(v, 'string')}`);
      }
      negatives.push(...(list as string[]));
    }
    query.negatives = negatives;
  }
  if (options.score !== undefined) {
    const v = requireField(rec, options.score, loc, 'dataset.score');
    if (typeof v !== 'number') throw new UserError('E_DATA', `${loc}: field "${options.score}" (score) must be a number, got ${typeName(v)}`);
    query.score = v;
  }
  if (options.teacher !== undefined) {
    const v = requireField(rec, options.teacher, loc, 'dataset.teacher');
    const list = typeof v === 'number' ? [v] : v;
    if (!Array.isArray(list) || list.length === 0 || list.some((x) => typeof x !== 'number')) {
      throw new UserError('E_DATA', `${loc}: field "${options.teacher}" (teacher) must be a number or a non-empty list of numbers, got ${Array.isArray(list) && list.length === 0 ? 'an empty list' : describeList(v, 'number')}`);
    }
    query.teacher = list as number[];
  }
  return query;
}

/** What a value is, for a list that must hold only `want`s: `number`, or `a list with a number at index 2`. */
export function describeList(v: unknown, want: 'string' | 'number'): string {
  if (!Array.isArray(v)) return typeName(v);
  const i = v.findIndex((x) => typeof x !== want);
  return i < 0 ? 'array' : `a list with ${typeName(v[i])} at index ${i}`;
}

/** The document of record `r` of corpus file `path`; E_DATA naming the record's line. */
export function docOf(r: DataRecord, path: string, textField: string, idField: string | undefined): Doc {
  const loc = `${displayPath(path)}:${r.line}`;
  if (typeof r.value === 'string') return { id: r.value, text: r.value };
  if (typeof r.value !== 'object' || r.value === null || Array.isArray(r.value)) {
    throw new UserError('E_DATA', `${loc}: expected a string or an object, got ${typeName(r.value)}`);
  }
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
  return { id, text };
}

/** Each document of JSON/JSONL corpus file `path` in order (ids unique), read as readRecords reads it. */
export function forEachDoc(path: string, textField: string, idField: string | undefined, onDoc: (doc: Doc) => void): void {
  const firstLine = new Map<string, number>();
  forEachRecord(path, 'dataset.corpus', (r) => {
    const doc = docOf(r, path, textField, idField);
    const first = firstLine.get(doc.id);
    if (first !== undefined) throw new UserError('E_DATA', `${displayPath(path)}:${r.line}: duplicate document id "${doc.id}" (first at line ${first})`);
    firstLine.set(doc.id, r.line);
    onDoc(doc);
  });
  if (firstLine.size === 0) throw noRecords(path);
}

/**
 * The documents of corpus `path` (resolved), by its form (corpus.ts corpusFormat): a folder's
 * text files (`extensions`, default .txt and .md), a CSV/TSV or Parquet file's rows, else a
 * JSON/JSONL file's records; `textField`/`idField` name a file's fields or columns.
 */
export async function readCorpus(path: string, textField: string, idField: string | undefined, extensions?: string[]): Promise<Doc[]> {
  const format = corpusFormat(path);
  if (format === 'folder') return readFolder(path, extensions);
  if (format === 'csv' || format === 'parquet') return readTableCorpus(path, format, textField, idField);
  const docs: Doc[] = [];
  forEachDoc(path, textField, idField, (d) => docs.push(d));
  return docs;
}

/** Expected ids that are not corpus ids: counted, the first few listed with suggestions (run and validate alike). */
export class MissingLabels {
  private readonly known: Set<string>;
  private readonly shown: string[] = [];
  private count = 0;

  /** `what`: `labels` (expected ids, reported at dataset.corpus) or `negatives` (reported at dataset.negatives). */
  constructor(
    private readonly ids: string[],
    private readonly corpusPath: string,
    private readonly what: 'labels' | 'negatives' = 'labels',
  ) {
    this.known = new Set(ids);
  }

  add(relevant: readonly string[], loc: string): void {
    for (const r of relevant) {
      if (this.known.has(r)) continue;
      this.count++;
      if (this.shown.length >= MAX_LISTED) continue;
      const hint = didYouMean(r, this.ids);
      this.shown.push(`  ${loc}: "${r}"${hint !== undefined ? ` (did you mean "${hint}"?)` : ''}`);
    }
  }

  /** `dataset.corpus: N expected labels are not in the corpus (…)` and the list; undefined when none. */
  message(): string | undefined {
    const n = this.count;
    if (n === 0) return undefined;
    const head =
      this.what === 'labels' ? `dataset.corpus: ${n} expected label${n === 1 ? ' is' : 's are'}` : `dataset.negatives: ${n} negative${n === 1 ? ' is' : 's are'}`;
    const lines = [`${head} not in the corpus (${displayPath(this.corpusPath)}, ${this.ids.length} documents):`, ...this.shown];
    if (n > MAX_LISTED) lines.push(`  … and ${n - MAX_LISTED} more`);
    return lines.join('\n');
  }

  throwIfAny(): void {
    const m = this.message();
    if (m !== undefined) throw new UserError('E_DATA', m);
  }
}

/** A data error as a problem of the dataset's options: at the option its message starts with (`dataset.label: …`), else at `at`. */
export function asProblem(e: unknown, at: Array<string | number>): OptionProblem {
  if (!(e instanceof UserError)) throw e;
  const m = /^dataset\.([\w.]+): /.exec(e.message);
  // A list below the first line stays indented under it among the other problems.
  const message = (m ? e.message.slice(m[0].length) : e.message).replaceAll('\n', '\n  ');
  return { path: m ? m[1]!.split('.') : at, message };
}

/**
 * The dataset of located queries (and eval queries): with a corpus (`corpusPath`, already
 * resolved), every expected id and negative is a corpus id (else E_DATA listing the first few),
 * and negatives become their texts; without one, the sorted expected labels and negatives are
 * the corpus.
 */
export async function assembleDataset(queries: Located[], evalSet: Located[] | undefined, spec: CorpusSpec | undefined, path: string | undefined): Promise<DatasetData> {
  const all = evalSet ? [...queries, ...evalSet] : queries;
  let corpus: Doc[];
  if (spec !== undefined && path !== undefined) {
    corpus = await readCorpus(path, spec.text ?? 'text', spec.id, spec.extensions);
    const ids = corpus.map((d) => d.id);
    const missing = new MissingLabels(ids, path);
    const missingNegatives = new MissingLabels(ids, path, 'negatives');
    for (const { query, loc } of all) {
      missing.add(query.relevant, loc);
      if (query.negatives) missingNegatives.add(query.negatives, loc);
    }
    missing.throwIfAny();
    missingNegatives.throwIfAny();
    // With a corpus, negatives are corpus ids: the queries carry their texts.
    const text = new Map(corpus.map((d) => [d.id, d.text]));
    for (const { query } of all) if (query.negatives) query.negatives = query.negatives.map((id) => text.get(id)!);
  } else {
    // Without one, negatives are texts, and documents like the expected labels (hard negatives to retrieve past).
    const labels = [...new Set(all.flatMap((q) => [...q.query.relevant, ...(q.query.negatives ?? [])]))].sort();
    corpus = labels.map((l) => ({ id: l, text: l }));
  }
  return {
    queries: queries.map((q) => q.query),
    ...(evalSet ? { eval: evalSet.map((q) => q.query) } : {}),
    corpus,
  };
}
