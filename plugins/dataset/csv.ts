/**
 * dataset `csv`: queries (and an optional eval set) from CSV or TSV files with a header row —
 * the same fields as `jsonl` (input, expected, label, negatives, score, teacher), one row a
 * query. The delimiter is a tab for `.tsv` files, else a comma, or the `delimiter` option.
 * A list cell (expected, negatives, teacher) is one value, or a JSON array (`["a","b"]`).
 * Read a row at a time with csv-parse (streaming, RFC 4180); see docs/plugins/dataset/csv.md.
 */
import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import { UserError } from '../../core/errors.js';
import { definePlugin } from '../../core/plugin.js';
import { displayPath } from './jsonl/records.js';
import { csvColumns } from '../common/columns.js';
import { recordValuesOf } from '../common/records.js';
import { checkColumns, loadTable, tableProblems, tableProperties, type TableDatasetOptions } from '../common/table.js';
import type { CheckContext, DatasetData, DatasetPlugin, OptionProblem, RunContext } from '../../core/types.js';

export interface CsvDatasetOptions extends TableDatasetOptions {
  delimiter?: string;
}

/** The delimiter of `path`: the option, else a tab for `.tsv`, else a comma. */
export const delimiterOf = (path: string, o: Pick<CsvDatasetOptions, 'delimiter'>): string => o.delimiter ?? (extname(path).toLowerCase() === '.tsv' ? '\t' : ',');

/**
 * The rows of CSV file `path` as objects keyed by the header, each with its row number (1 = the
 * first row after the header); the header given to `onHeader` first (default: checked against the
 * columns the options name; `ftrun dataset inspect` takes it as it is).
 * A malformed row is E_DATA naming its line: `train.csv:line 4: malformed CSV: …`.
 */
export async function* csvRows(
  path: string,
  option: string,
  o: CsvDatasetOptions,
  onHeader: (header: string[]) => void = (header) => checkColumns(header, o, path),
): AsyncGenerator<{ row: number; value: Record<string, unknown> }> {
  const { parse, CsvError } = await import('csv-parse'); // loaded when a run reads a CSV file, not at every start of the CLI
  const file = createReadStream(path);
  const parser = file.pipe(parse({ delimiter: delimiterOf(path, o), bom: true, skip_empty_lines: true, info: true }));
  file.on('error', (e) => parser.destroy(e)); // pipe() does not pass a read error on
  let header: string[] | undefined;
  let row = 0;
  try {
    for await (const { record } of parser as AsyncIterable<{ record: string[] }>) {
      if (header === undefined) {
        header = record;
        onHeader(header);
        continue;
      }
      row++;
      const value: Record<string, unknown> = {};
      header.forEach((h, i) => (value[h] = record[i]));
      yield { row, value };
    }
  } catch (e) {
    if (e instanceof CsvError) {
      const line = (e as import('csv-parse').CsvError & { lines?: number }).lines;
      throw new UserError('E_DATA', `${displayPath(path)}:line ${line}: malformed CSV: ${e.message.replace(/ (?:on|at) line \d+\.?$/, '')}`);
    }
    if (e instanceof UserError) throw e;
    throw new UserError('E_FILE', `${option}: cannot read ${displayPath(path)}: ${(e as Error).message}`, { cause: e });
  } finally {
    parser.destroy();
    file.destroy(); // closes the file when reading stops early (an error, a bad row)
  }
}

export default definePlugin({
  stage: 'dataset',
  type: 'csv',
  description: 'Queries and eval queries from CSV/TSV files with a header row (columns as jsonl fields); corpus from a JSON/JSONL/CSV/Parquet file, a folder of text files, or the expected labels.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['queries'],
    properties: {
      ...tableProperties('CSV or TSV'),
      delimiter: { type: 'string', minLength: 1, description: 'Field delimiter (default: a tab for .tsv files, else a comma).' },
    },
  },

  /** The files exist, and the columns the options name are in each query file's header. */
  check(options: Record<string, unknown>, ctx: CheckContext): OptionProblem[] {
    const o = options as unknown as CsvDatasetOptions;
    return tableProblems(o, ctx, (path) => csvColumns(path, delimiterOf(path, o)));
  },

  valuesOf: recordValuesOf,

  create: (options: CsvDatasetOptions, ctx: RunContext) => new CsvDataset(options, ctx),
});

class CsvDataset implements DatasetPlugin {
  constructor(
    private readonly options: CsvDatasetOptions,
    private readonly ctx: RunContext,
  ) {}

  load(): Promise<DatasetData> {
    return loadTable(this.options, this.ctx, (path, option, o) => csvRows(path, option, o as CsvDatasetOptions), true);
  }
}
