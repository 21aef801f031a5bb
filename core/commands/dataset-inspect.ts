/**
 * `ftrun dataset inspect <file> [--rows N] [--json]`: what is in a data file before writing an
 * experiment around it — its format, row count, each column with its type and how many values are
 * empty, the first rows, and a `dataset:` block that reads it (the fields guessed from the column
 * names sentence-transformers datasets use: anchor/positive/negative_1…, query/positive/negatives,
 * sentence1/sentence2/score, question/answer, input/expected, label, score).
 *
 * Files are read as the datasets read them: CSV/TSV with csv-parse through the csv dataset's
 * reader (every row, streamed), Parquet with hyparquet (types, row count and null counts from the
 * footer; the first rows from the first row group only), JSONL/JSON through the jsonl dataset's
 * record reader (every record, a chunk at a time). Malformed files are the readers' located errors.
 *
 * inspectFile and formatInspection are the building blocks: a caller that has downloaded a file
 * (a hub dataset's Parquet shard) inspects it with its own `source` for the `dataset:` block.
 */
import { readSync } from 'node:fs';
import { extname } from 'node:path';
import { stringify } from 'yaml';
import { peekFile, requireFile } from '../../plugins/common/table.js';
import { UserError } from '../errors.js';
import { makeProgress } from '../log.js';
import type { IO } from './run.js';

/** The formats inspect reads, by file extension. */
export const INSPECT_EXTENSIONS: Readonly<Record<string, InspectFormat>> = { '.csv': 'csv', '.tsv': 'tsv', '.parquet': 'parquet', '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.json': 'json' };

export type InspectFormat = 'csv' | 'tsv' | 'parquet' | 'jsonl' | 'json';

/** The dataset plugin that reads each format. */
const DATASET_TYPE: Record<InspectFormat, string> = { csv: 'csv', tsv: 'csv', parquet: 'parquet', jsonl: 'jsonl', json: 'jsonl' };

export interface InspectedColumn {
  name: string;
  /** string, number, boolean, list<string>, object, … (CSV/JSONL: from every value; Parquet: from the schema: string, int64, double, list<string>, json, struct<…>). */
  type: string;
  /** Parquet only: the physical type and its annotation, e.g. `BYTE_ARRAY STRING`, `LIST<BYTE_ARRAY STRING>`. */
  parquet?: string;
  /** Empty values: CSV an empty cell; JSONL a missing field, null, "" or []; Parquet a null (from the file's statistics). Undefined when not known. */
  empty?: number;
}

export interface SampleRow {
  /** Where the row is: `row 3` (CSV, Parquet: 1 = the first row after any header) or `line 3` (JSONL, JSON). */
  at: string;
  values: Record<string, unknown>;
}

export interface Inspection {
  /** The file as shown (relative to the working directory when inside it), or the caller's label. */
  file: string;
  format: InspectFormat;
  /** CSV/TSV: the delimiter, when the first line shows it is not the extension's (`;`, `|`, …). */
  delimiter?: string;
  rows: number;
  /** Parquet: its row groups. */
  rowGroups?: number;
  columns: InspectedColumn[];
  sample: SampleRow[];
  /** Why fewer rows than asked were shown, e.g. `the first row group holds 3 rows`. */
  sampleNote?: string;
  /** The `dataset:` options that would read the file (the source's, then the fields guessed). */
  dataset: Record<string, string | string[]>;
  /** The fields not guessed, each saying which option to set (empty when the block is complete). */
  hints: string[];
}

/** Where the `dataset:` block reads from: its type and source options, in order, e.g. `{ type: 'hf', id: 'org/name', split: 'train' }`. */
export type DatasetSource = { type: string } & Record<string, string>;

export interface InspectOptions {
  /** Rows to show (default 5). */
  rows?: number;
  /** The block's source (default: the file's dataset type and `queries: <path as given>`). */
  source?: DatasetSource;
  /** What the `file:` line shows (default: the path, relative to the working directory when inside it). */
  label?: string;
  /** Prefix of messages about the file itself (missing, unknown extension); default `ftrun dataset inspect`. */
  option?: string;
}

const DEFAULT_ROWS = 5;

/** The format of `path` by its extension, else E_USAGE listing the extensions read. */
export function inspectFormat(path: string, option = 'ftrun dataset inspect'): InspectFormat {
  const ext = extname(path).toLowerCase();
  const format = INSPECT_EXTENSIONS[ext];
  if (format === undefined) {
    throw new UserError('E_USAGE', `${option}: cannot tell the format of ${path} from its extension${ext ? ` "${ext}"` : ''}; supported: ${Object.keys(INSPECT_EXTENSIONS).join(', ')}`);
  }
  return format;
}

/** What is in data file `path`: see Inspection. Errors are UserErrors (a missing file, an unknown extension, the readers' located messages). */
export async function inspectFile(path: string, opts: InspectOptions = {}): Promise<Inspection> {
  const option = opts.option ?? 'ftrun dataset inspect';
  const { displayPath } = await import('../../plugins/dataset/jsonl/records.js');
  requireFile(path, option);
  const format = inspectFormat(path, option);
  const want = opts.rows ?? DEFAULT_ROWS;
  const read = format === 'parquet' ? await readParquet(path, want) : format === 'csv' || format === 'tsv' ? await readCsv(path, option, want, format === 'tsv' ? '\t' : ',') : await readJsonl(path, option, want);
  const source: DatasetSource = opts.source ?? { type: DATASET_TYPE[format], queries: path, ...(read.delimiter !== undefined ? { delimiter: read.delimiter } : {}) };
  const { options, hints } = guessFields(read.columns);
  return { file: opts.label ?? displayPath(path), format, ...read, dataset: { ...source, ...options }, hints };
}

type Read = Pick<Inspection, 'delimiter' | 'rows' | 'rowGroups' | 'columns' | 'sample' | 'sampleNote'>;

// ---- CSV / TSV and JSONL: types inferred from every value ----

/** The JSON type of a value: string, number, boolean, list<…>, object. */
function jsonType(v: unknown): string {
  if (Array.isArray(v)) return listType(v);
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v;
}

function listType(items: readonly unknown[]): string {
  const kinds = [...new Set(items.filter((x) => x !== null && x !== undefined).map(jsonType))];
  return kinds.length ? `list<${kinds.join(' | ')}>` : 'list';
}

/** What one column's values were: each type with its count (lists as one, with their items' types), and how many were empty. */
class ColumnTally {
  readonly types = new Map<string, number>();
  readonly items = new Set<string>();
  empty = 0;
  /** One value of type `type`; a list (`list`) with its items. */
  add(type: string, items: readonly unknown[] = []): void {
    this.types.set(type, (this.types.get(type) ?? 0) + 1);
    for (const x of items) if (x !== null && x !== undefined) this.items.add(jsonType(x));
  }
  /** The column's type: the one type seen, the types seen most first (`string | number`), or `empty`. */
  type(text: boolean): string {
    const list = this.items.size ? `list<${[...this.items].join(' | ')}>` : 'list';
    const kinds = [...this.types.entries()].sort((a, b) => b[1] - a[1]).map(([t]) => (t === 'list' ? list : t));
    if (kinds.length === 0) return 'empty';
    // In a CSV file every cell is text: numbers and lists among other text are text.
    if (text && kinds.length > 1) return 'string';
    return kinds.join(' | ');
  }
}

/** A CSV cell into `tally` as the csv dataset reads it for a list or number option: a JSON array (a list), a number, else a string. */
function addCell(tally: ColumnTally, cell: string): void {
  if (cell.trimStart().startsWith('[')) {
    try {
      const v = JSON.parse(cell) as unknown;
      if (Array.isArray(v)) return tally.add('list', v);
    } catch {
      // not a JSON array: text
    }
  }
  tally.add(cell.trim() !== '' && Number.isFinite(Number(cell)) ? 'number' : 'string');
}

/**
 * The delimiter of a CSV file when its first line (quoted text left out) holds none of the
 * extension's (`usual`) but another's: `;`, `|`, a tab or a comma; else undefined.
 */
function sniffDelimiter(path: string, usual: string): string | undefined {
  return peekFile(path, (fd) => {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const line = buf.subarray(0, n).toString('utf8').split(/\r?\n/)[0]!.replace(/"[^"]*"/g, '');
    return line.includes(usual) ? undefined : [';', '|', '\t', ','].find((d) => d !== usual && line.includes(d));
  });
}

async function readCsv(path: string, option: string, want: number, usual: string): Promise<Read> {
  const { csvRows } = await import('../../plugins/dataset/csv.js');
  const delimiter = sniffDelimiter(path, usual);
  let header: string[] = [];
  const tallies: ColumnTally[] = [];
  const sample: SampleRow[] = [];
  let rows = 0;
  for await (const r of csvRows(path, option, { queries: path, input: 'input', expected: 'expected', ...(delimiter !== undefined ? { delimiter } : {}) }, (h) => {
    header = h;
    for (let i = 0; i < h.length; i++) tallies.push(new ColumnTally());
  })) {
    rows = r.row;
    header.forEach((name, i) => {
      const cell = r.value[name];
      if (typeof cell !== 'string' || cell === '') tallies[i]!.empty++;
      else addCell(tallies[i]!, cell);
    });
    if (sample.length < want) sample.push({ at: `row ${r.row}`, values: r.value });
  }
  return { ...(delimiter !== undefined ? { delimiter } : {}), rows, columns: header.map((name, i) => ({ name, type: tallies[i]!.type(true), empty: tallies[i]!.empty })), sample };
}

async function readJsonl(path: string, option: string, want: number): Promise<Read> {
  const { asObject, displayPath, forEachRecord } = await import('../../plugins/dataset/jsonl/records.js');
  const tallies = new Map<string, ColumnTally>();
  const sample: SampleRow[] = [];
  let rows = 0;
  forEachRecord(path, option, (r) => {
    const rec = asObject(r.value, `${displayPath(path)}:${r.line}`);
    rows++;
    for (const name of Object.keys(rec)) {
      if (!tallies.has(name)) {
        const t = new ColumnTally();
        t.empty = rows - 1; // missing from every record before this one
        tallies.set(name, t);
      }
    }
    for (const [name, t] of tallies) {
      const v = rec[name];
      if (v === undefined || v === null) t.empty++;
      else {
        if (Array.isArray(v)) t.add('list', v);
        else t.add(jsonType(v));
        if (v === '' || (Array.isArray(v) && v.length === 0)) t.empty++;
      }
    }
    if (sample.length < want) sample.push({ at: `line ${r.line}`, values: rec });
  });
  return { rows, columns: [...tallies].map(([name, t]) => ({ name, type: t.type(false), empty: t.empty })), sample };
}

// ---- Parquet: the footer's schema and statistics; the first row group's first rows ----

type SchemaTree = import('hyparquet').SchemaTree;
type SchemaElement = import('hyparquet').SchemaElement;

/** A leaf's type: its logical (or converted) annotation, else its physical type. */
function leafType(e: SchemaElement): string {
  const l = e.logical_type;
  if (l) {
    switch (l.type) {
      case 'STRING':
      case 'ENUM':
        return 'string';
      case 'INTEGER':
        return `${l.isSigned ? 'int' : 'uint'}${l.bitWidth}`;
      case 'DECIMAL':
        return `decimal(${l.precision},${l.scale})`;
      case 'TIMESTAMP':
      case 'TIME':
        return `${l.type.toLowerCase()}[${l.unit.toLowerCase()}]`;
      default:
        return l.type.toLowerCase();
    }
  }
  const c = e.converted_type;
  if (c === 'UTF8' || c === 'ENUM') return 'string';
  if (c === 'DECIMAL') return `decimal(${e.precision ?? '?'},${e.scale ?? 0})`;
  if (c !== undefined && /^U?INT_\d+$/.test(c)) return c.toLowerCase().replace('_', '');
  if (c === 'TIMESTAMP_MILLIS' || c === 'TIMESTAMP_MICROS' || c === 'TIME_MILLIS' || c === 'TIME_MICROS') return `${c.startsWith('TIME_') ? 'time' : 'timestamp'}[${c.endsWith('MILLIS') ? 'ms' : 'us'}]`;
  if (c !== undefined) return c.toLowerCase();
  switch (e.type) {
    case 'BYTE_ARRAY':
      return 'binary';
    case 'FIXED_LEN_BYTE_ARRAY':
      return `binary[${e.type_length ?? '?'}]`;
    case undefined:
      return 'group';
    default:
      return e.type.toLowerCase();
  }
}

/** A leaf's physical type and annotation: `BYTE_ARRAY STRING`, `DOUBLE`. */
function leafPhysical(e: SchemaElement): string {
  const note = e.logical_type?.type ?? e.converted_type;
  return `${e.type ?? 'group'}${note ? ` ${note}` : ''}`;
}

/** The items of a LIST-annotated group: the repeated child's only child (3-level lists), or the repeated child itself (2-level). */
function listItem(node: SchemaTree): SchemaTree | undefined {
  const rep = node.children[0];
  if (node.children.length !== 1 || rep === undefined) return undefined;
  return rep.children.length === 1 ? rep.children[0] : rep;
}

/** A column's type and physical description, from its schema subtree. */
function parquetType(node: SchemaTree, top = true): { type: string; physical: string } {
  const e = node.element;
  const annotation = e.logical_type?.type ?? e.converted_type;
  if (node.children.length === 0) {
    const leaf = { type: leafType(e), physical: leafPhysical(e) };
    // a repeated field without a LIST annotation is a list of its type
    return top && e.repetition_type === 'REPEATED' ? { type: `list<${leaf.type}>`, physical: `REPEATED ${leaf.physical}` } : leaf;
  }
  if (annotation === 'LIST') {
    const item = listItem(node);
    if (item) {
      const t = parquetType(item, false);
      return { type: `list<${t.type}>`, physical: `LIST<${t.physical}>` };
    }
  }
  if (annotation === 'MAP' || annotation === 'MAP_KEY_VALUE') {
    const kv = node.children[0];
    if (node.children.length === 1 && kv?.children.length === 2) {
      const [k, v] = kv.children.map((c) => parquetType(c, false)) as [{ type: string; physical: string }, { type: string; physical: string }];
      return { type: `map<${k.type}, ${v.type}>`, physical: `MAP<${k.physical}, ${v.physical}>` };
    }
  }
  const fields = node.children.map((c) => ({ name: c.element.name, ...parquetType(c, false) }));
  return { type: `struct<${fields.map((f) => `${f.name}: ${f.type}`).join(', ')}>`, physical: `GROUP<${fields.map((f) => `${f.name}: ${f.physical}`).join(', ')}>` };
}

/**
 * The nulls of column `name` from every row group's statistics, undefined when a row group has
 * none. A nested column's leaves count its nulls, empty lists and null items together: it is
 * known only when they count none.
 */
function nullCount(md: import('hyparquet').FileMetaData, node: SchemaTree): number | undefined {
  const name = node.element.name;
  const nested = node.children.length > 0 || node.element.repetition_type === 'REPEATED';
  let total = 0;
  for (const group of md.row_groups) {
    const chunks = group.columns.filter((c) => c.meta_data?.path_in_schema[0] === name);
    if (chunks.length === 0) return undefined;
    for (const c of chunks) {
      const n = c.meta_data?.statistics?.null_count;
      if (n === undefined) return undefined;
      total += Number(n);
    }
  }
  return nested && total > 0 ? undefined : total;
}

async function readParquet(path: string, want: number): Promise<Read> {
  const { parquetStep } = await import('../../plugins/dataset/parquet.js');
  const { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } = await import('hyparquet');
  const file = await asyncBufferFromFile(path);
  const md = await parquetStep(path, 'the Parquet footer (is it a Parquet file?)', () => parquetMetadataAsync(file));
  const schema = await parquetStep(path, 'the Parquet schema', async () => parquetSchema(md));
  const columns = schema.children.map((node): InspectedColumn => {
    const { type, physical } = parquetType(node);
    const empty = nullCount(md, node);
    return { name: node.element.name, type, parquet: physical, ...(empty !== undefined ? { empty } : {}) };
  });
  const rows = Number(md.num_rows);
  const first = md.row_groups[0] ? Number(md.row_groups[0].num_rows) : 0;
  const n = Math.min(want, first);
  const objects = n > 0 ? await parquetStep(path, 'row group 0', () => parquetReadObjects({ file, metadata: md, rowStart: 0, rowEnd: n })) : [];
  const sample = objects.map((values, i) => ({ at: `row ${i + 1}`, values: values as Record<string, unknown> }));
  const sampleNote = n < want && first < rows ? `the first row group holds ${first} row${first === 1 ? '' : 's'}` : undefined;
  return { rows, rowGroups: md.row_groups.length, columns, sample, ...(sampleNote ? { sampleNote } : {}) };
}

// ---- the dataset: block ----

const INPUT_NAMES = ['anchor', 'query', 'question', 'sentence1', 'input'];
const EXPECTED_NAMES = ['positive', 'positives', 'pos', 'document', 'answer', 'sentence2', 'expected'];
const NEGATIVES_NAMES = ['negatives', 'negative', 'hard_negatives', 'neg'];
const SCORE_NAMES = ['score'];
const LABEL_NAMES = ['label'];

const isNumeric = (type: string) => /^(number|u?int\d+|float|double|float16|decimal\(.*\))$/.test(type);
const isText = (type: string) => type === 'string' || type === 'json';
const isTextOrList = (type: string) => isText(type) || type === 'list<string>';

/** A list of names as `a, b or c`. */
const orList = (names: readonly string[]) => (names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : (names[0] ?? ''));

/**
 * The field options guessed from the column names (case-insensitive), each only when its column
 * holds what the option reads; and for input and expected, when none fits, what to set.
 */
export function guessFields(columns: readonly InspectedColumn[]): { options: Record<string, string | string[]>; hints: string[] } {
  const options: Record<string, string | string[]> = {};
  const hints: string[] = [];
  const byName = (names: readonly string[], fits: (type: string) => boolean) => {
    for (const want of names) {
      const c = columns.find((col) => col.name.toLowerCase() === want);
      if (c && fits(c.type)) return c;
    }
    return undefined;
  };
  const all = columns.map((c) => c.name).join(', ') || 'none';
  const input = byName(INPUT_NAMES, isText);
  if (input) options.input = input.name;
  else hints.push(`input: no column is named ${orList(INPUT_NAMES)} (a string); set input to the column that holds the query text (columns: ${all})`);
  const expected = byName(EXPECTED_NAMES, isTextOrList);
  if (expected) options.expected = expected.name;
  else hints.push(`expected: no column is named ${orList(EXPECTED_NAMES)} (a string or a list of strings); set expected to the column that holds the relevant document's text or id (columns: ${all})`);
  const numbered = columns
    .map((c) => ({ c, m: /^negative_?(\d+)$/i.exec(c.name) }))
    .filter((x) => x.m !== null && isText(x.c.type))
    .sort((a, b) => Number(a.m![1]) - Number(b.m![1]))
    .map((x) => x.c.name);
  const negatives = numbered.length ? numbered : byName(NEGATIVES_NAMES, isTextOrList)?.name;
  if (negatives !== undefined) options.negatives = negatives;
  const score = byName(SCORE_NAMES, isNumeric);
  if (score) options.score = score.name;
  const label = byName(LABEL_NAMES, (t) => isText(t) || isNumeric(t));
  if (label) options.label = label.name;
  return { options, hints };
}

/** The field options of the block, in its order. */
const FIELDS = ['input', 'expected', 'negatives', 'score', 'label'];
const HINT_COMMENT: Record<string, string> = { input: 'the column holding the query text', expected: "the column holding the relevant document's text or id" };

/** A YAML scalar as it would be written in a config (quoted only when it must be). */
const scalar = (s: string) => stringify(s).trimEnd();

/** The `dataset:` block of an inspection, ready to paste; the options not guessed as comments. */
export function datasetYaml(ins: Pick<Inspection, 'dataset' | 'hints'>): string {
  const lines = ['dataset:'];
  const line = (k: string, v: string | string[]) => lines.push(`  ${k}: ${Array.isArray(v) ? `[${v.map(scalar).join(', ')}]` : scalar(v)}`);
  for (const [k, v] of Object.entries(ins.dataset)) if (!FIELDS.includes(k)) line(k, v);
  const unset = new Set(ins.hints.map((h) => h.slice(0, h.indexOf(':'))));
  for (const k of FIELDS) {
    const v = ins.dataset[k];
    if (v !== undefined) line(k, v);
    else if (unset.has(k)) lines.push(`  # ${k}: ?  (${HINT_COMMENT[k]})`);
  }
  return lines.join('\n') + '\n';
}

// ---- text and JSON ----

const CELL_CHARS = 80;

/** A cell for the terminal: text with its line breaks as \n, other values as JSON; cut at CELL_CHARS with …. */
function cell(v: unknown): string {
  const s = typeof v === 'string' ? (v === '' ? '""' : v.replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/\t/g, '\\t')) : JSON.stringify(jsonable(v)) ?? 'undefined';
  const chars = [...s];
  return chars.length > CELL_CHARS ? chars.slice(0, CELL_CHARS - 1).join('') + '…' : s;
}

/** A value JSON can carry: BigInt as a number (a string past 2^53), typed arrays as arrays, bytes as `<n bytes>`, dates as ISO text. */
export function jsonable(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (v instanceof Date) return v.toISOString();
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<unknown>, jsonable);
  if (Array.isArray(v)) return v.map(jsonable);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonable(x)]));
  return v;
}

const FORMAT_NAME: Record<InspectFormat, string> = {
  csv: 'CSV (comma-separated, a header row)',
  tsv: 'TSV (tab-separated, a header row)',
  parquet: 'Parquet',
  jsonl: 'JSONL (a JSON object a line)',
  json: 'JSON (an array of objects)',
};

/** Pads the cells of each column to its widest. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]!) : c)).join('  ').trimEnd());
}

/** The inspection as the terminal shows it. */
export function formatInspection(ins: Inspection): string {
  const out: string[] = [];
  out.push(`file:    ${ins.file}`);
  out.push(`format:  ${ins.delimiter !== undefined ? `${ins.format.toUpperCase()} (${JSON.stringify(ins.delimiter)}-separated, a header row)` : FORMAT_NAME[ins.format]}`);
  out.push(`rows:    ${ins.rows}${ins.rowGroups !== undefined ? ` in ${ins.rowGroups} row group${ins.rowGroups === 1 ? '' : 's'}` : ''}`);
  out.push('');
  const parquet = ins.format === 'parquet';
  const head = ['column', 'type', ...(parquet ? ['parquet type', 'nulls'] : ['empty'])];
  const cols = ins.columns.map((c) => [c.name, c.type, ...(parquet ? [c.parquet ?? ''] : []), c.empty === undefined ? '?' : String(c.empty)]);
  for (const l of table([head, ...cols])) out.push(`  ${l}`);
  out.push('');
  if (ins.sample.length === 0) out.push(ins.rows === 0 ? 'no rows' : 'no rows shown (--rows 0)');
  else {
    out.push(`${ins.sample.length === 1 ? 'first row' : `first ${ins.sample.length} rows`}${ins.sampleNote ? ` (${ins.sampleNote})` : ''}:`);
    const width = Math.max(...ins.columns.map((c) => c.name.length)) + 1;
    for (const r of ins.sample) {
      out.push(`  ${r.at}`);
      for (const c of ins.columns) if (c.name in r.values) out.push(`    ${`${c.name}:`.padEnd(width)} ${cell(r.values[c.name])}`);
    }
  }
  out.push('');
  out.push('dataset options that read it (paste into an experiment; a relative path is relative to the experiment file):');
  out.push('');
  out.push(datasetYaml(ins).trimEnd());
  if (ins.hints.length) out.push('', ...ins.hints);
  return out.join('\n') + '\n';
}

/** The inspection as `--json` prints it: the fields of Inspection (sample values as JSON) and the block as `yaml`. */
export function inspectionJson(ins: Inspection): Record<string, unknown> {
  return {
    file: ins.file,
    format: ins.format,
    ...(ins.delimiter !== undefined ? { delimiter: ins.delimiter } : {}),
    rows: ins.rows,
    ...(ins.rowGroups !== undefined ? { row_groups: ins.rowGroups } : {}),
    columns: ins.columns.map((c) => ({ name: c.name, type: c.type, ...(c.parquet !== undefined ? { parquet: c.parquet } : {}), empty: c.empty ?? null })),
    sample: ins.sample.map((r) => ({ at: r.at, values: jsonable(r.values) })),
    ...(ins.sampleNote ? { sample_note: ins.sampleNote } : {}),
    dataset: ins.dataset,
    hints: ins.hints,
    yaml: datasetYaml(ins),
  };
}

export interface DatasetInspectArgs {
  /** A local file, or a hub dataset `hf:ORG/NAME[@REVISION][:CONFIG/SPLIT]`. */
  target: string;
  rows: number;
  json: boolean;
}

export async function datasetInspectCommand(args: DatasetInspectArgs, io: IO): Promise<number> {
  // A hub dataset (hf:ORG/NAME[@REVISION][:CONFIG/SPLIT]): its split's Parquet files into the HF cache, then inspectFile.
  const ins = args.target.startsWith('hf:')
    ? await (await import('../../plugins/dataset/hf/inspect.js')).inspectHf(args.target, { rows: args.rows, signal: io.signal, progress: makeProgress({ quiet: args.json, verbose: false, write: io.err }) })
    : await inspectFile(args.target, { rows: args.rows });
  io.out(args.json ? JSON.stringify(inspectionJson(ins), null, 2) + '\n' : formatInspection(ins));
  return 0;
}
