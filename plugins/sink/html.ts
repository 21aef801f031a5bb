/**
 * Sink `html`: writes report.html into the run directory when the run ends — one self-contained
 * file (inline CSS and SVG charts; no script, no network) to open, paste or attach: the base /
 * fine-tuned / Δ table, training loss, learning rate and test metrics over steps, per-category
 * recall of both models, the queries the fine-tuned model got worse and better on with their
 * top-k, the resolved config and the environment. Built from the run directory's own files
 * (plugins/sink/html/report.ts), charts by ECharts' server-side SVG renderer.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/fsutil.js';
import { REPORT_HTML } from '../../core/run/records.js';
import { reportFileCheck, reportFileSchema } from '../../core/run/rundir.js';
import { definePlugin } from '../../core/plugin.js';
import type { RunContext, RunSummary, SinkPlugin } from '../../core/types.js';

export interface HtmlSinkOptions {
  file: string;
  digits: number;
}

export default definePlugin({
  stage: 'sink',
  type: 'html',
  description: 'Writes a self-contained HTML report with charts (report.html) into the run directory.',
  schema: reportFileSchema(REPORT_HTML),
  /** `file` stays inside the run directory and leaves its contract files alone. */
  check: reportFileCheck(REPORT_HTML),
  create: (options: HtmlSinkOptions, ctx: RunContext) => new HtmlSink(options, ctx),
});

class HtmlSink implements SinkPlugin {
  constructor(
    private readonly options: HtmlSinkOptions,
    private readonly ctx: RunContext,
  ) {}

  async close(summary: RunSummary): Promise<void> {
    const { renderRunReport } = await import('./html/report.js'); // loads the charting library only when a report is written
    writeFileAtomic(join(this.ctx.runDir, this.options.file), renderRunReport({ summary, digits: this.options.digits }));
  }
}
