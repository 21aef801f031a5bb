/**
 * What the table datasets (`csv`, `parquet`) share: their options schema (jsonl's fields), the
 * check that the columns the options name are in the file (did-you-mean among its columns), a
 * table row → the record `queryFromRecord` reads (list cells of a CSV file as JSON arrays,
 * numbers of a CSV file parsed), and their load: rows → located queries → the dataset.
 */
import { basename } from 'node:path';
import { closeSync, openSync, statSync } from 'node:fs';
import { didYouMean, UserError } from '../../core/errors.js';
import { displayPath } from '../dataset/jsonl/records.js';
import { corpusProblems } from './corpus.js';
import { asProblem, assembleDataset, CORPUS_OPTION, recordFieldProperties, corpusSpec, negativeFields, noRecords, queryFromRecord, type CorpusSpec, type Located, type RecordFieldOptions } from './records.js';
import type { CheckContext, DatasetData, OptionProblem, RunContext } from '../../core/types.js';

export interface TableDatasetOptions extends RecordFieldOptions {
  queries: string;
  eval?: string;
  corpus?: string | CorpusSpec;
  limit?: number;
}

/** The options schema's properties of a table dataset (`what`: `CSV or TSV`, `Parquet`). */
export function tableProperties(what: string): Record<string, unknown> {
  return {
    queries: { type: 'string', minLength: 1, format: 'path', description: `${what} file of training/test queries, one row each (relative to the file that writes it).` },
    eval: { type: 'string', minLength: 1, format: 'path', description: `${what} file of evaluation queries (optional; otherwise the splitter decides).` },
    corpus: CORPUS_OPTION,
    ...recordFieldProperties('Column', ' (a list column, or a JSON array in a CSV cell)'),
  };
}

/** The columns the options name, each with the option that names it (`dataset.negatives` for every n-tuple column). */
function namedColumns(o: RecordFieldOptions): Array<[string, string]> {
  const out: Array<[string, string]> = [
    ['dataset.input', o.input ?? 'input'],
    ['dataset.expected', o.expected ?? 'expected'],
  ];
  if (o.label !== undefined) out.push(['dataset.label', o.label]);
  for (const f of negativeFields(o)) out.push(['dataset.negatives', f]);
  if (o.score !== undefined) out.push(['dataset.score', o.score]);
  if (o.teacher !== undefined) out.push(['dataset.teacher', o.teacher]);
  return out;
}

/** E_DATA for the first column the options name that `columns` (of `path`) lacks: `dataset.input: no column "inptu" in train.csv. Did you mean "input"? Columns: …`. */
export function checkColumns(columns: readonly string[], o: RecordFieldOptions, path: string): void {
  for (const [option, name] of namedColumns(o)) {
    if (columns.includes(name)) continue;
    const hint = didYouMean(name, columns);
    throw new UserError('E_DATA', `${option}: no column "${name}" in ${displayPath(path)}.${hint !== undefined ? ` Did you mean "${hint}"?` : ''} Columns: ${columns.join(', ') || 'none'}`);
  }
}

/** A CSV cell holding a JSON array (`["a", "b"]`) as the array; any other cell as it is. */
function listCell(v: unknown, column: string, loc: string): unknown {
  if (typeof v !== 'string' || !v.trimStart().startsWith('[')) return v;
  try {
    return JSON.parse(v) as unknown;
  } catch (e) {
    throw new UserError('E_DATA', `${loc}: column "${column}" starts with "[" but is not a JSON array: ${(e as Error).message}`);
  }
}

/** A CSV cell as a number when it is one (else as it is: queryFromRecord reports its type). */
function numberCell(v: unknown): unknown {
  if (typeof v !== 'string' || v.trim() === '') return v;
  const n = Number(v);
  return Number.isFinite(n) ? n : v;
}

/** A Parquet value as JSON-like: BigInt (INT64) as a number, typed arrays as arrays. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number | bigint>, plain);
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

/**
 * The record of table row `row` at `loc` (`file:row N`): for a CSV file (`text`), list columns
 * holding a JSON array are that array, score/teacher cells are numbers; for both, an empty
 * expected value is an error at the row.
 */
export function rowRecord(row: Record<string, unknown>, o: RecordFieldOptions, loc: string, text: boolean): Record<string, unknown> {
  const rec: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) rec[k] = plain(v);
  const expected = o.expected ?? 'expected';
  if (text) {
    for (const f of [expected, ...negativeFields(o)]) if (f in rec) rec[f] = listCell(rec[f], f, loc);
    if (o.score !== undefined && o.score in rec) rec[o.score] = numberCell(rec[o.score]);
    if (o.teacher !== undefined && o.teacher in rec) rec[o.teacher] = numberCell(listCell(rec[o.teacher], o.teacher, loc));
  }
  const e = rec[expected];
  if (e === undefined || e === null || e === '' || (Array.isArray(e) && e.length === 0)) throw new UserError('E_DATA', `${loc}: column "${expected}" is empty`);
  return rec;
}

/** A table file's rows, each with its 1-based row number (the header is not a row). */
export type RowReader = (path: string, option: string, o: TableDatasetOptions) => AsyncIterable<{ row: number; value: Record<string, unknown> }>;

/** That `path` (named by `option`) is a regular file, else E_FILE as jsonl says it. */
export function requireFile(path: string, option: string): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    throw new UserError('E_FILE', `${option}: file not found: ${displayPath(path)}`);
  }
  if (!st.isFile()) throw new UserError('E_FILE', `${option}: is a directory, not a file: ${displayPath(path)}`);
}

/**
 * The located queries of the table files `paths` (read in order, named by `option` in messages),
 * their rows read by `rows`, `o.limit` counted across the files; `rows`: how many rows they hold.
 */
export async function readTable(paths: string[], option: string, o: TableDatasetOptions, rows: RowReader, text: boolean): Promise<{ located: Located[]; rows: number }> {
  const out: Located[] = [];
  let n = 0;
  for (const path of paths) {
    requireFile(path, option);
    const base = basename(path);
    for await (const r of rows(path, option, o)) {
      n++;
      if (o.limit !== undefined && out.length >= o.limit) continue; // read on: a malformed row further on is still reported
      const loc = `${displayPath(path)}:row ${r.row}`;
      out.push({ query: queryFromRecord(rowRecord(r.value, o, loc, text), loc, `${base}:${r.row}`, o), loc });
    }
  }
  return { located: out, rows: n };
}

/** The dataset of a table dataset's options, its rows read by `rows`. */
export async function loadTable(o: TableDatasetOptions, ctx: RunContext, rows: RowReader, text: boolean): Promise<DatasetData> {
  const read = async (file: string, option: string): Promise<Located[]> => {
    const path = ctx.resolvePath(file);
    const { located, rows: n } = await readTable([path], option, o, rows, text);
    if (n === 0) throw noRecords(path);
    return located;
  };
  const queries = await read(o.queries, 'dataset.queries');
  const evalSet = o.eval !== undefined ? await read(o.eval, 'dataset.eval') : undefined;
  const spec = o.corpus !== undefined ? corpusSpec(o.corpus) : undefined;
  return assembleDataset(queries, evalSet, spec, spec ? ctx.resolvePath(spec.path) : undefined);
}

/**
 * What a table dataset's check() reports, as `ftrun validate` shows it: each query file the
 * options name exists and is a regular file, and the columns the options name are in it (its
 * header or schema, from `columnsOf`; undefined when it cannot be read cheaply — the run
 * reports that with its row or line); the corpus as corpus.ts corpusProblems checks it.
 */
export function tableProblems(o: TableDatasetOptions, ctx: CheckContext, columnsOf: (path: string) => string[] | undefined): OptionProblem[] {
  const out: OptionProblem[] = [];
  const files: Array<[Array<string | number>, string | undefined, boolean]> = [
    [['queries'], o.queries, true],
    [['eval'], o.eval, true],
  ];
  for (const [at, value, table] of files) {
    if (typeof value !== 'string') continue;
    const path = ctx.resolvePath(value);
    try {
      requireFile(path, 'dataset');
    } catch (e) {
      out.push({ path: at, message: (e as Error).message.replace(/^dataset: /, '') });
      continue;
    }
    const columns = table ? columnsOf(path) : undefined;
    if (columns === undefined) continue;
    try {
      checkColumns(columns, o, path);
    } catch (e) {
      out.push(asProblem(e, at));
    }
  }
  // The corpus: a file or a folder, its columns when a CSV/TSV or Parquet file (corpus.ts).
  if (o.corpus !== undefined) out.push(...corpusProblems(o.corpus, ctx).problems);
  return out;
}

/**
 * What `read` finds in the open file `path` (a header, a footer), for `validate`'s column checks;
 * undefined when the file cannot be opened or read, which the run then reports at its line.
 */
export function peekFile<T>(path: string, read: (fd: number) => T | undefined): T | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    return read(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
