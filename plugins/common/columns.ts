/**
 * The columns of a CSV/TSV or Parquet file as `ftrun validate` reads them, cheaply and
 * synchronously: a CSV header from the file's first MiB, a Parquet schema from its footer alone.
 * Used by the csv and parquet datasets' checks (their query files) and by corpus.ts (a CSV/TSV
 * or Parquet corpus of any record dataset). csv-parse and hyparquet are required here, when
 * validation meets such a file, not at every start of the CLI.
 */
import { fstatSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { peekFile } from './table.js';

/** The header of CSV file `path` (`delimiter`) from its first 1 MiB; undefined when that cannot be parsed (the run reports it at its line). */
export function csvColumns(path: string, delimiter: string): string[] | undefined {
  return peekFile(path, (fd) => {
    const buf = Buffer.alloc(2 ** 20);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const { parse: parseSync } = createRequire(import.meta.url)('csv-parse/sync') as typeof import('csv-parse/sync'); // validate needs it synchronously
    const rows = parseSync(buf.subarray(0, n).toString('utf8'), { delimiter, bom: true, skip_empty_lines: true, to: 1 }) as string[][];
    return rows[0];
  });
}

/** The top-level column names of Parquet file `path`, from its footer alone; undefined when that cannot be read (the run reports it). */
export function parquetColumns(path: string): string[] | undefined {
  return peekFile(path, (fd) => {
    const size = fstatSync(fd).size;
    if (size < 12) return undefined;
    const tail = Buffer.alloc(8);
    readSync(fd, tail, 0, 8, size - 8);
    const length = tail.readUInt32LE(0) + 8;
    if (length > size) return undefined;
    const footer = Buffer.alloc(length);
    readSync(fd, footer, 0, length, size - length);
    // validate needs it synchronously (require of an ES module: Node ≥ 20.19; before, the column check is left to the run)
    const { parquetMetadata, parquetSchema } = createRequire(import.meta.url)('hyparquet') as typeof import('hyparquet');
    return parquetSchema(parquetMetadata(new Uint8Array(footer))).children.map((c) => c.element.name);
  });
}
