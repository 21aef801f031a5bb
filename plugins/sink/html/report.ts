/**
 * report.html: one self-contained page (inline CSS and SVG charts, no script, no network) built
 * from the run directory's own files — the base / fine-tuned / Δ table, the training curves, the
 * per-category recall of both models, the queries the fine-tuned model got better and worse on
 * with their top-k, the resolved config and the environment.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonl } from '../../../core/fsutil.js';
import { dimsOf, dimsTableRows, evalSetBlocks, formatNumber, metricLabel, modelLabel, orderModels, primaryLabel } from '../../../core/report.js';
import { ENV_JSON, EVENTS_JSONL, PER_QUERY_JSONL, RESOLVED_YAML, type PerQuery, type RunEnv } from '../../../core/run/records.js';
import type { RunEvent, RunSummary } from '../../../core/types.js';
import { FULL_WIDTH, barChart, lineChart } from '../../../core/html/charts.js';
import { escapeHtml, htmlTable, metricsTable, page, signedWithInterval } from '../../../core/html/page.js';
import { intervalNote } from '../../../core/stats.js';
import { changedQueries } from '../../../core/html/queries.js';
import { outcomeHead, readRunEnv, runOutcome } from '../../../core/run-outcome.js';
import { meanByLabel } from '../../../core/metrics.js';

export interface RunReportInput {
  summary: RunSummary;
  digits: number;
}

/** report.html of the run in `summary.runDir`, from its files. */
export function renderRunReport({ summary, digits }: RunReportInput): string {
  const dir = summary.runDir;
  const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '');
  // The primary set's queries (rows of evaluate.sets carry `set`).
  const perQuery = (existsSync(join(dir, PER_QUERY_JSONL)) ? readJsonl<PerQuery>(join(dir, PER_QUERY_JSONL)) : []).filter((q) => q.set === undefined);
  const events = existsSync(join(dir, EVENTS_JSONL)) ? readJsonl<RunEvent>(join(dir, EVENTS_JSONL)) : [];
  const parts: string[] = [];
  const primary = summary.primary;

  parts.push(`<h1>${escapeHtml(summary.name)}</h1>`);
  const delta = summary.delta[primary];
  parts.push(
    `<p>Status <b>${escapeHtml(summary.status)}</b>.${Object.keys(summary.models).length === 0 ? '' : ` ${escapeHtml(primaryLabel(primary, summary.sets ? summary.primarySet : undefined))}: ${orderModels(Object.keys(summary.models))
      .map((m) => `${escapeHtml(modelLabel(m))} <b>${formatNumber(summary.models[m]?.[primary], digits)}</b>`)
      .join(', ')}${delta !== undefined ? ` (Δ ${signedWithInterval(delta, summary.delta_ci?.[primary], digits)})` : ''}.`}</p>`,
  );
  // a run that did not finish: where it stopped and why (env.json, written as the run ended)
  const outcome = runOutcome(readRunEnv(dir), summary.status);
  if (outcome.status !== 'ok') {
    parts.push(`<div class="error" id="outcome"><b>${escapeHtml(outcomeHead(outcome))}</b>${outcome.message ? `\n${escapeHtml(outcome.message)}` : ''}</div>`);
  }
  parts.push('<h2>Metrics</h2>');
  const noModel = '<p class="muted">No model was evaluated.</p>';
  if (summary.sets && Object.keys(summary.sets).length) {
    parts.push('<p>Each evaluation set (<code>evaluate.sets</code>) with its own corpus; the primary set is the dataset\'s eval queries.</p>');
    for (const b of evalSetBlocks(summary)) parts.push(`<h3>${escapeHtml(b.title)}</h3>`, Object.keys(b.models).length ? metricsTable(b, digits) : noModel);
  } else parts.push(Object.keys(summary.models).length ? metricsTable(summary, digits) : noModel);
  if (summary.delta_ci || summary.delta_merged_ci || summary.sets_delta_ci) parts.push(`<p class="muted">${escapeHtml(intervalNote(summary.ci?.queries))}</p>`);
  if (summary.dims && Object.keys(summary.dims).length) {
    const dims = summary.dims;
    const models = orderModels(Object.keys(dims));
    const series = models.map((m) => ({ name: modelLabel(m), points: dimsOf(dims).filter((d) => dims[m]?.[String(d)]?.[primary] !== undefined).map((d): [number, number] => [d, dims[m]![String(d)]![primary]!]) }));
    parts.push(
      '<h2>Truncated dimensions</h2>',
      '<p>Each embedding cut to its first d values and re-normalized (<code>evaluate.dims</code>).</p>',
      lineChart(`${metricLabel(primary)} by embedding dimension`, 'dimension', series, { yName: metricLabel(primary), width: FULL_WIDTH }),
      (({ header, rows }) => htmlTable(header, rows.map((r) => r.map(escapeHtml)), (i) => i > 0))(dimsTableRows(dims, digits)),
    );
  }

  // Training curves.
  const steps = events.filter((e): e is Extract<RunEvent, { type: 'train_step' }> => e.type === 'train_step');
  const evals = events.filter((e): e is Extract<RunEvent, { type: 'train_eval' }> => e.type === 'train_eval');
  if (steps.length) {
    const charts = [
      lineChart('Training loss', 'step', [{ name: 'loss', points: steps.map((s) => [s.step, s.loss]) }]),
      lineChart('Learning rate', 'step', [{ name: 'learning rate', points: steps.map((s) => [s.step, s.lr]) }]),
    ];
    const keys = [...new Set(evals.flatMap((e) => Object.keys(e.metrics)))].filter((k) => k === primary || k === 'triplet_accuracy');
    if (evals.length && keys.length) {
      charts.push(lineChart('Test split during training', 'step', keys.map((k) => ({ name: k === 'triplet_accuracy' ? 'triplet accuracy' : metricLabel(k), points: evals.filter((e) => e.metrics[k] !== undefined).map((e) => [e.step, e.metrics[k]!]) }))));
    }
    const t = summary.training;
    parts.push('<h2>Training</h2>');
    if (t) parts.push(`<p>${t.steps} steps, ${t.epochs} epoch${t.epochs === 1 ? '' : 's'} in ${t.seconds.toFixed(1)} s (${t.samples_per_second.toFixed(1)} samples/s)${t.best_step !== undefined ? `; best checkpoint at step ${t.best_step}` : ''}.</p>`);
    parts.push(`<div class="charts">${charts.join('\n')}</div>`);
  }

  // Per-category recall, and what changed.
  const models = orderModels(new Set(perQuery.map((q) => q.model)));
  const ks = Object.keys(perQuery[0]?.metrics ?? {}).filter((k) => k.startsWith('recall@')).map((k) => Number(k.slice(7))).sort((a, b) => a - b);
  if (models.length && ks.length) {
    const key = `recall@${ks[0]}`;
    const per = models.map((m) => meanByLabel(perQuery.filter((q) => q.model === m), key));
    const labels = [...per[0]!.keys()].sort();
    parts.push('<h2>Per category</h2>', barChart(`${metricLabel(key)} per expected category`, labels, models.map((m, i) => ({ name: modelLabel(m), values: labels.map((l) => per[i]!.get(l) ?? 0) }))));
  }
  if (models.includes('base') && models.includes('finetuned')) {
    const map = (m: string) => new Map(perQuery.filter((q) => q.model === m).map((q) => [q.query_id, q]));
    const k = Math.max(...perQuery.map((q) => q.top.length));
    const { better, worse } = changedQueries(map('base'), map('finetuned'), k);
    parts.push('<h2>Queries the fine-tuned model got worse on</h2>', worse, '<h2>Queries the fine-tuned model got better on</h2>', better);
  }

  parts.push('<h2>Resolved config</h2>', `<pre>${escapeHtml(read(RESOLVED_YAML))}</pre>`);
  const env = read(ENV_JSON);
  if (env) {
    // env.json as the run ended: status, finish time, error, timings, encoders
    parts.push('<h2>Environment</h2>', `<pre>${escapeHtml(JSON.stringify(JSON.parse(env) as RunEnv, null, 2))}</pre>`);
  }
  return page(`${summary.name}: ftrun report`, parts.join('\n'));
}
