/**
 * Sink `markdown`: writes the human report (report.md) into the run directory when the run
 * closes: experiment name, date, status, a configuration summary, the base / fine-tuned / Δ
 * table, per-stage timings and the 10 worst queries of the last evaluated model (the fine-tuned
 * one rather than its merge with the base, training.merge). The file is
 * written atomically, also for failed or interrupted runs.
 */
import { join } from 'node:path';
import { REPORT_MD } from '../../core/run/records.js';
import { reportFileCheck, reportFileSchema } from '../../core/run/rundir.js';
import { writeFileAtomic } from '../../core/fsutil.js';
import { renderReport } from '../../core/report.js';
import { readRunEnv, runOutcome } from '../../core/run-outcome.js';
import { definePlugin } from '../../core/plugin.js';
import type { QueryResult, RunContext, RunSummary, SinkPlugin } from '../../core/types.js';

export interface MarkdownSinkOptions {
  file: string;
  digits: number;
}

export default definePlugin({
  stage: 'sink',
  type: 'markdown',
  description: 'Writes a Markdown report (report.md) into the run directory.',
  schema: reportFileSchema(REPORT_MD),
  /** `file` stays inside the run directory and leaves its contract files alone. */
  check: reportFileCheck(REPORT_MD),
  create: (options: MarkdownSinkOptions, ctx: RunContext) => new MarkdownSink(options, ctx),
});

class MarkdownSink implements SinkPlugin {
  /** The run's start, shown as the report date; replaceable in tests. */
  date: Date = new Date();
  private config?: Record<string, unknown>;
  private last?: { model: string; results: QueryResult[] };

  constructor(
    private readonly options: MarkdownSinkOptions,
    private readonly ctx: RunContext,
  ) {}

  /** The report's path. */
  get file(): string {
    return join(this.ctx.runDir, this.options.file ?? REPORT_MD);
  }

  logConfig(config: Record<string, unknown>): void {
    this.config = config;
  }

  logEval(model: string, perQuery: QueryResult[]): void {
    // the merged model (training.merge) is a variant of the fine-tuned one: the worst queries stay the fine-tuned model's
    if (model !== 'merged' || !this.last) this.last = { model, results: perQuery };
  }

  close(summary: RunSummary): void {
    const text = renderReport({
      name: summary.name,
      date: this.date,
      status: summary.status,
      runDir: summary.runDir || this.ctx.runDir,
      primary: summary.primary,
      config: this.config,
      models: summary.models,
      delta: summary.delta,
      ...(summary.delta_merged ? { delta_merged: summary.delta_merged } : {}),
      ...(summary.delta_ci ? { delta_ci: summary.delta_ci } : {}),
      ...(summary.delta_merged_ci ? { delta_merged_ci: summary.delta_merged_ci } : {}),
      ...(summary.sets_delta_ci ? { sets_delta_ci: summary.sets_delta_ci } : {}),
      ...(summary.ci ? { ci: summary.ci } : {}),
      ...(summary.dims ? { dims: summary.dims } : {}),
      ...(summary.sets ? { sets: summary.sets, primarySet: summary.primarySet } : {}),
      timings: summary.timings,
      training: summary.training,
      queries: this.last,
      // how the run ended (env.json is final when the sinks close): the stage a failed or stopped run was in, and why
      outcome: runOutcome(readRunEnv(this.ctx.runDir), summary.status),
      digits: this.options.digits ?? 3,
    });
    writeFileAtomic(this.file, text);
  }
}
