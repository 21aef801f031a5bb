/**
 * Corpus sources of the record datasets (`jsonl`, `csv`, `parquet`, `hf`, `generate`) beyond a
 * JSON/JSONL file (plugins/common/records.ts reads those):
 *
 * - a **folder** of text documents: every file under it (recursively, hidden files and folders
 *   skipped) whose extension is one of `extensions` (default `.txt`, `.md`), in sorted order of
 *   its path in the folder; a document's id is that path (`guides/setup.md`, `/`-separated),
 *   its text the file's content (UTF-8);
 * - a **CSV/TSV** (`.csv`, `.tsv`: comma, tab) or **Parquet** (`.parquet`) file: one row a
 *   document, `text` and `id` naming its columns (as for a JSON/JSONL corpus), read with the
 *   `csv` and `parquet` datasets' readers (csv-parse, hyparquet: loaded when such a file is read).
 *
 * And what `ftrun validate` checks of every corpus form (corpusProblems).
 */
import { readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { extname, join } from 'node:path';
import { didYouMean, UserError } from '../../core/errors.js';
import { displayPath, typeName } from '../dataset/jsonl/records.js';
import type { CheckContext, Doc, OptionProblem } from '../../core/types.js';
import type { CorpusSpec } from './records.js';
import { csvColumns, parquetColumns } from './columns.js';
import type { TableDatasetOptions } from './table.js';

/** What a corpus path is: a folder, a CSV/TSV or Parquet file (by extension), or a JSON/JSONL file (any other). */
export type CorpusFormat = 'folder' | 'csv' | 'parquet' | 'records';

/** The extensions of the documents of a folder corpus without `extensions`. */
export const FOLDER_EXTENSIONS: readonly string[] = ['.txt', '.md'];

const TABLE_EXTENSIONS: Record<string, CorpusFormat> = { '.csv': 'csv', '.tsv': 'csv', '.parquet': 'parquet' };

/** The format of corpus `path`: `folder` when it is a directory, else by its extension. */
export function corpusFormat(path: string): CorpusFormat {
  let dir = false;
  try {
    dir = statSync(path).isDirectory();
  } catch {
    // missing: the reader reports it as a file not found
  }
  return dir ? 'folder' : (TABLE_EXTENSIONS[extname(path).toLowerCase()] ?? 'records');
}

/** An extension as compared: lower case, with its dot (`MD` → `.md`). */
const dotted = (e: string): string => (e.startsWith('.') ? e : `.${e}`).toLowerCase();

/** `.txt or .md`, `.txt, .md or .rst`. */
function orList(xs: readonly string[]): string {
  return xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`;
}

/**
 * The documents' paths in folder `dir` (relative, `/`-separated, sorted): every file under it
 * whose extension (case-insensitive) is one of `extensions`, hidden files and folders (a name
 * starting with `.`) skipped; a link is followed to a file but not into a folder. E_FILE
 * `dataset.corpus: cannot read …` for an entry that cannot be listed or followed; E_DATA when
 * there is none, naming the extensions looked for and those found.
 */
export function folderFiles(dir: string, extensions: readonly string[] = FOLDER_EXTENSIONS): string[] {
  const wanted = new Set(extensions.map(dotted));
  const out: string[] = [];
  const others = new Map<string, number>(); // extensions of the files left out, for the message
  const walk = (rel: string): void => {
    const abs = rel === '' ? dir : join(dir, rel);
    let entries: Dirent[];
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch (e) {
      throw new UserError('E_FILE', `dataset.corpus: cannot read ${displayPath(abs)}: ${(e as Error).message}`, { cause: e });
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      let isFile = entry.isFile();
      if (entry.isDirectory()) {
        walk(path);
        continue;
      }
      if (entry.isSymbolicLink()) {
        try {
          isFile = statSync(join(dir, path)).isFile();
        } catch (e) {
          throw new UserError('E_FILE', `dataset.corpus: cannot read ${displayPath(join(dir, path))}: ${(e as Error).message}`, { cause: e });
        }
      }
      if (!isFile) continue;
      const ext = extname(entry.name).toLowerCase();
      if (wanted.has(ext)) out.push(path);
      else others.set(ext || '(none)', (others.get(ext || '(none)') ?? 0) + 1);
    }
  };
  walk('');
  if (out.length === 0) {
    const found = [...others].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([e, n]) => `${n} ${e}`);
    throw new UserError(
      'E_DATA',
      `dataset.corpus: no ${orList([...wanted])} files in ${displayPath(dir)} (${found.length > 0 ? `files found: ${found.join(', ')}` : 'no files found'}; hidden files and folders are skipped; dataset.corpus.extensions chooses the extensions)`,
    );
  }
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The documents of folder corpus `dir` (see folderFiles): id the file's path in the folder, text its UTF-8 content (a BOM dropped). */
export function readFolder(dir: string, extensions?: readonly string[]): Doc[] {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  return folderFiles(dir, extensions).map((id) => {
    const file = join(dir, id);
    let text: string;
    try {
      text = decoder.decode(readFileSync(file));
    } catch (e) {
      const why = e instanceof TypeError ? 'not UTF-8 text' : (e as Error).message;
      throw new UserError('E_FILE', `dataset.corpus: cannot read ${displayPath(file)}: ${why}`, { cause: e });
    }
    return { id, text };
  });
}

/** The column options of a corpus, as the table readers check them: `dataset.input` stands for `dataset.corpus.text`, `dataset.expected` for `dataset.corpus.id`. */
function asTableOptions(path: string, textField: string, idField: string | undefined): TableDatasetOptions {
  return { queries: path, input: textField, expected: idField ?? textField };
}

/** A table reader's column error (`dataset.input: no column …`) at the corpus option it is about. */
function atCorpusOption(e: unknown): unknown {
  if (!(e instanceof UserError)) return e;
  const m = /^dataset\.(input|expected): /.exec(e.message);
  if (!m) return e;
  return new UserError(e.code, `dataset.corpus.${m[1] === 'input' ? 'text' : 'id'}: ${e.message.slice(m[0].length)}`, { cause: e });
}

/** The document of table row `row` at `loc` (`docs.csv:row 3`): text a string, id (when `idField`) a non-empty string or a number. */
function rowDoc(row: Record<string, unknown>, textField: string, idField: string | undefined, loc: string): Doc {
  const text = row[textField];
  if (typeof text !== 'string') throw new UserError('E_DATA', `${loc}: column "${textField}" must be a string, got ${typeName(text)}`);
  if (idField === undefined) return { id: text, text };
  const v = typeof row[idField] === 'bigint' ? String(row[idField]) : row[idField];
  if (typeof v !== 'string' && typeof v !== 'number') throw new UserError('E_DATA', `${loc}: column "${idField}" must be a string or a number, got ${typeName(v)}`);
  if (v === '') throw new UserError('E_DATA', `${loc}: column "${idField}" is empty`);
  return { id: String(v), text };
}

/**
 * The documents of CSV/TSV or Parquet corpus `path` (`format`), one a row: the columns `text`
 * and `id` name checked first (at dataset.corpus.text / .id, did-you-mean among the columns),
 * each row's error at `file:row N`, ids unique.
 */
export async function readTableCorpus(path: string, format: 'csv' | 'parquet', textField: string, idField: string | undefined): Promise<Doc[]> {
  const o = asTableOptions(path, textField, idField);
  const rows = format === 'csv' ? (await import('../dataset/csv.js')).csvRows(path, 'dataset.corpus', o) : (await import('../dataset/parquet.js')).parquetRows(path, 'dataset.corpus', o);
  const docs: Doc[] = [];
  const firstRow = new Map<string, number>();
  try {
    for await (const r of rows) {
      const loc = `${displayPath(path)}:row ${r.row}`;
      const doc = rowDoc(r.value, textField, idField, loc);
      const first = firstRow.get(doc.id);
      if (first !== undefined) throw new UserError('E_DATA', `${loc}: duplicate document id "${doc.id}" (first at row ${first})`);
      firstRow.set(doc.id, r.row);
      docs.push(doc);
    }
  } catch (e) {
    throw atCorpusOption(e);
  }
  if (docs.length === 0) throw new UserError('E_DATA', `${displayPath(path)}: no records`);
  return docs;
}

/** What check() learns of a corpus: its problems (at the corpus options), its format, and, for a folder, its document ids. */
export interface CorpusCheck {
  problems: OptionProblem[];
  /** The corpus file or folder, resolved. */
  path: string;
  /** Undefined when it does not exist. */
  format?: CorpusFormat;
  /** A folder's document ids, when it has documents. */
  ids?: string[];
}

/**
 * What `ftrun validate` reports of the `corpus` option of a record dataset: the path exists; a
 * folder has documents (folderFiles) and no `text`/`id` (its documents are its files), a file
 * is a regular file and has no `extensions`; a CSV/TSV or Parquet file has the columns `text`
 * and `id` name (its header, its footer: columns.ts). A JSON/JSONL file's records
 * are the caller's to check (jsonl reads them all). Problems are at `corpus` for a plain path,
 * at `corpus.path` (and `.text`, `.id`, `.extensions`) for `{path, …}`.
 */
export function corpusProblems(corpus: string | CorpusSpec, ctx: Pick<CheckContext, 'resolvePath'>): CorpusCheck {
  const spec: CorpusSpec = typeof corpus === 'string' ? { path: corpus } : corpus;
  const at = typeof corpus === 'string' ? ['corpus'] : ['corpus', 'path'];
  const path = ctx.resolvePath(spec.path);
  const problems: OptionProblem[] = [];
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    return { problems: [{ path: at, message: `file not found: ${displayPath(path)}` }], path };
  }
  if (st.isDirectory()) {
    for (const key of ['text', 'id'] as const) {
      if (spec[key] === undefined) continue;
      problems.push({ path: ['corpus', key], message: `names a field of a corpus file (JSON, JSONL, CSV, TSV or Parquet), but ${displayPath(path)} is a folder: its documents are its files, each file's path in the folder its id` });
    }
    try {
      return { problems, path, format: 'folder', ids: folderFiles(path, spec.extensions) };
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      problems.push({ path: at, message: e.message.replace(/^dataset\.corpus: /, '') });
      return { problems, path, format: 'folder' };
    }
  }
  if (!st.isFile()) return { problems: [{ path: at, message: `not a regular file: ${displayPath(path)}` }], path };
  if (spec.extensions !== undefined) problems.push({ path: ['corpus', 'extensions'], message: `chooses the files of a folder corpus, but ${displayPath(path)} is a file` });
  const format = corpusFormat(path);
  if (format === 'csv' || format === 'parquet') {
    const columns = tableColumns(path, format);
    const wanted: Array<['text' | 'id', string | undefined]> = [
      ['text', spec.text ?? 'text'],
      ['id', spec.id],
    ];
    for (const [key, name] of columns ? wanted : []) {
      if (name === undefined || columns!.includes(name)) continue;
      const hint = didYouMean(name, columns!);
      problems.push({ path: ['corpus', key], message: `no column "${name}" in ${displayPath(path)}.${hint !== undefined ? ` Did you mean "${hint}"?` : ''} Columns: ${columns!.join(', ') || 'none'}` });
    }
  }
  return { problems, path, format };
}

/** The columns of CSV/TSV (by its extension) or Parquet file `path`, as the csv and parquet datasets' validation reads them. */
function tableColumns(path: string, format: 'csv' | 'parquet'): string[] | undefined {
  return format === 'csv' ? csvColumns(path, extname(path).toLowerCase() === '.tsv' ? '\t' : ',') : parquetColumns(path);
}
