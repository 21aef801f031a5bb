/**
 * A sink plugin in TypeScript, as docs/writing-a-plugin.md shows it: one CSV row per run (its name,
 * status and chosen metrics of each evaluated model), appended to a file that several
 * experiments share. List it under `plugins: [./csv-sink.ts]`; ftrun loads it without a build
 * step. The test suite type-checks this file against the published types and runs it from a
 * folder outside the repository (test/cli/ts-plugin.test.ts).
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { definePlugin, UserError, type RunContext, type RunSummary, type SinkPlugin } from 'ftrun';

interface CsvSinkOptions {
  /** CSV file, relative to the experiment file that writes it. */
  path: string;
  /** Metrics (`<metric>@<k>`) written for each model. */
  metrics: string[];
}

export default definePlugin<'sink', CsvSinkOptions>({
  stage: 'sink',
  type: 'csv',
  description: 'Appends one CSV row per run: name, status and the chosen metrics of each evaluated model.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: {
      path: { type: 'string', minLength: 1, format: 'path', description: 'CSV file to append to (created with a header).' },
      metrics: { type: 'array', minItems: 1, items: { type: 'string' }, default: ['mrr@1'], description: 'Metrics to write, e.g. mrr@1.' },
    },
  },
  // Problems a schema cannot express, reported by `ftrun validate` at the option's line.
  check: (options) => (options.path.endsWith('.csv') ? [] : [{ path: ['path'], message: `"${options.path}" does not end in .csv` }]),
  create: (options: CsvSinkOptions, context: RunContext): SinkPlugin => ({
    close(summary: RunSummary) {
      const file = context.resolvePath(options.path);
      const columns = ['name', 'status', ...['base', 'finetuned'].flatMap((m) => options.metrics.map((k) => `${m}_${k}`))];
      const header = columns.join(',');
      if (!existsSync(file)) appendFileSync(file, header + '\n');
      else if (readFileSync(file, 'utf8').split('\n', 1)[0] !== header) {
        // A mistake the user must fix: a clean message, exit code 2, no stack trace.
        throw new UserError('E_RUN', `${file} has other columns than [${header}]; write to a new file`);
      }
      const value = (model: string, k: string) => summary.models[model]?.[k]?.toFixed(4) ?? '';
      const row = [summary.name, summary.status, ...['base', 'finetuned'].flatMap((m) => options.metrics.map((k) => value(m, k)))];
      appendFileSync(file, row.join(',') + '\n');
      context.logger.info(`csv: appended a row to ${file}`);
    },
  }),
});
