/**
 * dataset `parquet`: queries (and an optional eval set) from Parquet files — the same fields as
 * `jsonl` (input, expected, label, negatives, score, teacher) as columns, one row a query; list
 * columns (expected, negatives) hold lists. Read with hyparquet (pure JS) a row group at a time:
 * the footer first, then each row group's rows, so a large file is never held whole; see
 * docs/plugins/dataset/parquet.md.
 */
import type { FileMetaData } from 'hyparquet';
import { UserError } from '../../core/errors.js';
import { definePlugin } from '../../core/plugin.js';
import { displayPath } from './jsonl/records.js';
import { parquetColumns } from '../common/columns.js';
import { recordValuesOf } from '../common/records.js';
import { checkColumns, loadTable, tableProblems, tableProperties, type TableDatasetOptions } from '../common/table.js';
import type { CheckContext, DatasetData, DatasetPlugin, OptionProblem, RunContext } from '../../core/types.js';

export type ParquetDatasetOptions = TableDatasetOptions;

/** Whatever hyparquet throws reading `path`, as E_DATA naming the file. */
export async function parquetStep<T>(path: string, what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError('E_DATA', `${displayPath(path)}: cannot read ${what}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The rows of Parquet file `path` as objects keyed by column name, each with its row number
 * (1-based), read one row group at a time; the columns checked against those the options name first.
 */
export async function* parquetRows(path: string, _option: string, o: ParquetDatasetOptions): AsyncGenerator<{ row: number; value: Record<string, unknown> }> {
  // hyparquet is loaded when a run reads a Parquet file, not at every start of the CLI.
  const { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } = await import('hyparquet');
  const file = await asyncBufferFromFile(path);
  const metadata: FileMetaData = await parquetStep(path, 'the Parquet footer (is it a Parquet file?)', () => parquetMetadataAsync(file));
  const columns = parquetSchema(metadata).children.map((c) => c.element.name);
  checkColumns(columns, o, path);
  let start = 0;
  let row = 0;
  for (const [i, group] of metadata.row_groups.entries()) {
    const end = start + Number(group.num_rows);
    const rows = await parquetStep(path, `row group ${i}`, () => parquetReadObjects({ file, metadata, rowStart: start, rowEnd: end }));
    for (const value of rows) yield { row: ++row, value: value as Record<string, unknown> };
    start = end;
  }
}

export default definePlugin({
  stage: 'dataset',
  type: 'parquet',
  description: 'Queries and eval queries from Parquet files (columns as jsonl fields, read a row group at a time); corpus from a JSON/JSONL/CSV/Parquet file, a folder of text files, or the expected labels.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['queries'],
    properties: tableProperties('Parquet'),
  },

  /** The files exist, and the columns the options name are in each query file (read from its footer). */
  check(options: Record<string, unknown>, ctx: CheckContext): OptionProblem[] {
    return tableProblems(options as unknown as ParquetDatasetOptions, ctx, parquetColumns);
  },

  valuesOf: recordValuesOf,

  create: (options: ParquetDatasetOptions, ctx: RunContext) => new ParquetDataset(options, ctx),
});

class ParquetDataset implements DatasetPlugin {
  constructor(
    private readonly options: ParquetDatasetOptions,
    private readonly ctx: RunContext,
  ) {}

  load(): Promise<DatasetData> {
    return loadTable(this.options, this.ctx, parquetRows, false);
  }
}
