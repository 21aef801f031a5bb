/**
 * Sink `console`: a one-line note after each model's evaluation and, at the end of the run, the
 * base / fine-tuned / Δ table (as in the reference notebook) with the primary metric, the run
 * directory and the elapsed time. Writes to stderr (stdout is reserved for `--json` output).
 */
import { relative } from 'node:path';
import { evalSetBlocks, formatNumber, metricLabel, modelLabel, orderModels, primaryLabel, renderDimsTable, renderMetricsTable } from '../../core/report.js';
import { definePlugin } from '../../core/plugin.js';
import { formatDeltaWithInterval, intervalNote } from '../../core/stats.js';
import type { QueryResult, RunContext, RunSummary, SinkPlugin } from '../../core/types.js';

export interface ConsoleSinkOptions {
  digits: number;
}

export default definePlugin({
  stage: 'sink',
  type: 'console',
  description: 'Prints the base / fine-tuned / Δ results table to stderr at the end of a run.',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      digits: { type: 'integer', minimum: 0, maximum: 10, default: 3, description: 'Decimal places of metric values.' },
    },
  },
  create: (options: ConsoleSinkOptions, ctx: RunContext) => new ConsoleSink(options, ctx),
});

class ConsoleSink implements SinkPlugin {
  /** Where text goes (the run's human output, silent under --quiet); replaceable in tests. */
  write: (s: string) => void;
  /** Clock in milliseconds and the run's start on it; replaceable in tests. */
  now: () => number = () => Date.now();
  startedAt: number = Date.now();

  constructor(
    private readonly options: ConsoleSinkOptions,
    private readonly ctx: RunContext,
  ) {
    this.write = (s) => {
      if (!ctx.quiet) ctx.write(s);
    };
  }

  logEval(model: string, perQuery: QueryResult[], summary: Record<string, number>): void {
    const first = Object.keys(summary)[0];
    const value = first === undefined ? '' : `: ${metricLabel(first)} ${formatNumber(summary[first], this.digits)}`;
    this.write(`evaluated ${modelLabel(model)} on ${perQuery.length} queries${value}\n`);
  }

  logEvalSet(set: string, model: string, perQuery: QueryResult[], summary: Record<string, number>): void {
    const first = Object.keys(summary)[0];
    const value = first === undefined ? '' : `: ${metricLabel(first)} ${formatNumber(summary[first], this.digits)}`;
    this.write(`evaluated ${modelLabel(model)} on ${set} (${perQuery.length} queries)${value}\n`);
  }

  close(summary: RunSummary): void {
    const d = this.digits;
    const lines: string[] = ['', `${summary.name}: ${summary.status}`];
    if (summary.sets && Object.keys(summary.sets).length) {
      // evaluate.sets: one block per evaluation set, the primary first
      for (const b of evalSetBlocks(summary)) lines.push('', `${b.title}:`, Object.keys(b.models).length ? renderMetricsTable(b, { format: 'text', digits: d }) : 'no model was evaluated');
    } else if (Object.keys(summary.models).length) lines.push(renderMetricsTable(summary, { format: 'text', digits: d }));
    else lines.push('no model was evaluated');
    if (summary.delta_ci || summary.delta_merged_ci || summary.sets_delta_ci) lines.push(intervalNote(summary.ci?.queries));
    if (summary.dims && Object.keys(summary.dims).length) lines.push('', 'truncated dimensions (evaluate.dims):', renderDimsTable(summary.dims, { format: 'text', digits: d }));
    lines.push('', `primary: ${this.primaryLine(summary)}`);
    const t = summary.training;
    if (t) lines.push(`training: ${t.steps} steps, ${t.epochs} epoch${t.epochs === 1 ? "" : "s"} in ${formatElapsed(t.seconds)} (${t.samples_per_second.toFixed(1)} samples/s)`);
    const es = summary.earlyStop;
    if (es?.rule === 'patience' && es.best) {
      lines.push(`early stopping at step ${es.step}: ${es.metric} did not improve by more than ${es.min_delta} in ${es.patience} evaluation${es.patience === 1 ? '' : 's'} (best ${es.best.value.toFixed(d)} at step ${es.best.step})`);
    } else if (es?.rule === 'median') {
      lines.push(`stopped by sweep.stop at step ${es.step}: ${es.metric} ${es.value.toFixed(d)} below the median ${es.median?.toFixed(d)} of ${es.trials} other trials at that step`);
    }
    const dir = displayPath(summary.runDir || this.ctx.runDir);
    lines.push(`run dir: ${dir}`);
    if (summary.resumable === false) lines.push('it stopped before any work began: fix the error below and run it again (there is nothing to resume)');
    else if (summary.status !== 'ok' && summary.status !== 'stopped') lines.push(`continue it (once the cause is fixed): ftrun resume ${dir}`);
    lines.push(`elapsed: ${formatElapsed((this.now() - this.startedAt) / 1000)}`);
    this.write(lines.join('\n') + '\n');
  }

  private get digits(): number {
    return this.options.digits ?? 3;
  }

  private primaryLine(s: RunSummary): string {
    const parts = orderModels(Object.keys(s.models))
      .filter((m) => s.models[m]?.[s.primary] !== undefined)
      .map((m) => `${modelLabel(m)} ${formatNumber(s.models[m]![s.primary], this.digits)}`);
    const delta = s.delta?.[s.primary];
    if (delta !== undefined) parts.push(`Δ ${formatDeltaWithInterval(delta, s.delta_ci?.[s.primary], this.digits)}`);
    const merged = s.delta_merged?.[s.primary];
    if (merged !== undefined) parts.push(`Δ merged ${formatDeltaWithInterval(merged, s.delta_merged_ci?.[s.primary], this.digits)}`);
    return `${primaryLabel(s.primary, s.sets ? s.primarySet : undefined)}${parts.length ? ' (' + parts.join(', ') + ')' : ''}`;
  }
}

/** Relative to the working directory when inside it, else absolute. */
function displayPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !rel.startsWith('/') ? rel : p;
}

export function formatElapsed(seconds: number): string {
  if (seconds < 59.95) return `${seconds.toFixed(1)} s`;
  const total = Math.round(seconds);
  const m = Math.floor(total / 60);
  if (m < 60) return `${m} min ${total % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
