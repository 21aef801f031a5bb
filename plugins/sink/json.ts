/**
 * Sink `json`: at the end of a run, appends one line to a JSON Lines file:
 *   {name, run_dir, status, primary, models, delta, timings}
 * By default `summary.jsonl` in the run directory; point `path` at a shared file (e.g.
 * `runs/summary.jsonl`) to collect one line per run across runs. The append is one write on an
 * O_APPEND descriptor followed by fsync, so concurrent runs never interleave their lines.
 */
import { join } from 'node:path';
import { appendJsonl } from '../../core/fsutil.js';
import { creatableProblem } from '../../core/fsutil.js';
import { SUMMARY_JSONL, type SummaryLine } from '../../core/run/records.js';
import { definePlugin } from '../../core/plugin.js';
import type { CheckContext, OptionProblem, RunContext, RunSummary, SinkPlugin } from '../../core/types.js';

export interface JsonSinkOptions {
  path?: string;
}

export default definePlugin({
  stage: 'sink',
  type: 'json',
  description: 'Appends a one-line JSON summary of the run to a JSON Lines file.',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      path: {
        type: 'string',
        minLength: 1,
        format: 'path',
        description: 'JSON Lines file to append to, relative to the file that writes it. Default: summary.jsonl in the run directory.',
      },
    },
  },

  /** A `path` that is a directory, or lies below a file, cannot be appended to. */
  check(options: Record<string, unknown>, ctx: CheckContext): OptionProblem[] {
    if (typeof options.path !== 'string') return [];
    const why = creatableProblem(ctx.resolvePath(options.path), 'file');
    return why ? [{ path: ['path'], message: `cannot append to it: ${why}` }] : [];
  },

  create: (options: JsonSinkOptions, ctx: RunContext) => new JsonSink(options, ctx),
});

class JsonSink implements SinkPlugin {
  constructor(
    private readonly options: JsonSinkOptions,
    private readonly ctx: RunContext,
  ) {}

  /** The file this sink appends to. */
  get file(): string {
    return this.options.path ? this.ctx.resolvePath(this.options.path) : join(this.ctx.runDir, SUMMARY_JSONL);
  }

  close(summary: RunSummary): void {
    appendJsonl(this.file, {
      name: summary.name,
      run_dir: summary.runDir,
      status: summary.status,
      primary: summary.primary,
      models: summary.models,
      delta: summary.delta,
      ...(summary.delta_merged ? { delta_merged: summary.delta_merged } : {}),
      timings: summary.timings,
    } satisfies SummaryLine);
  }
}
