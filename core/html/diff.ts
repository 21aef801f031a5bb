/**
 * `ftrun diff --html`: two runs (or two sweeps) side by side as one self-contained page — the
 * changed config keys, the metric deltas (with a chart of the primary metric), and for runs the
 * queries B ranks better and worse than A; for sweeps, both leaderboards matched by overrides.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonl } from '../fsutil.js';
import { formatNumber, formatOverrides, formatValue, metricLabel, modelLabel, rankingModel } from '../report.js';
import type { RunDirInfo } from '../run-reader.js';
import { barChart } from './charts.js';
import { escapeHtml, htmlTable, page, signedWithInterval } from './page.js';
import { pairingLines } from '../commands/diff.js';
import type { PairingSummary } from '../run/intervals.js';
import { intervalNote, type DeltaInterval } from '../stats.js';
import { PER_QUERY_JSONL, type PerQuery } from '../run/records.js';
import { changedQueries } from './queries.js';

export interface ConfigRow {
  path: string;
  a: unknown;
  b: unknown;
  changed: boolean;
  absentA: boolean;
  absentB: boolean;
}

export function renderRunDiffHtml(
  names: { a: string; b: string },
  A: RunDirInfo,
  B: RunDirInfo,
  changes: ConfigRow[],
  metrics: Record<string, Record<string, { a: number | null; b: number | null; delta: number | null; ci?: DeltaInterval }>>,
  queries: Record<string, PairingSummary> = {},
): string {
  const status = (r: RunDirInfo) => r.metrics?.status ?? String(r.env.status ?? 'unknown');
  const parts = [
    '<h1>ftrun diff</h1>',
    `<p>A: <code>${escapeHtml(names.a)}</code> (${escapeHtml(status(A))})<br>B: <code>${escapeHtml(names.b)}</code> (${escapeHtml(status(B))})</p>`,
  ];
  const changed = changes.filter((c) => c.changed);
  parts.push(`<h2>Config: ${changed.length === 0 ? 'identical' : `${changed.length} changed key${changed.length === 1 ? '' : 's'}`}</h2>`);
  if (changes.length) {
    const show = (v: unknown, absent: boolean) => escapeHtml(absent ? '(absent)' : formatValue(v));
    parts.push(htmlTable(['key', 'A', 'B'], changes.map((c) => [escapeHtml(c.path), show(c.a, c.absentA), show(c.b, c.absentB)])));
  }
  parts.push('<h2>Metrics (B − A)</h2>');
  const models = Object.keys(metrics);
  if (!models.length) parts.push('<p class="muted">No model was evaluated in both runs.</p>');
  else {
    const rows = models.flatMap((m) => Object.entries(metrics[m]!).map(([k, v]) => [escapeHtml(modelLabel(m)), escapeHtml(metricLabel(k)), formatNumber(v.a), formatNumber(v.b), signedWithInterval(v.delta, v.ci)]));
    parts.push(htmlTable(['model', 'metric', 'A', 'B', 'Δ'], rows, (i) => i > 1));
    // what the intervals are, and the models whose queries did not all pair
    const notes = pairingLines('text', { queries }).map((l) => escapeHtml(l.trim()));
    if (notes.length) parts.push(`<p class="muted">${notes.join('<br>')}</p>`);
    const primary = A.metrics?.primary ?? 'mrr@1';
    const withPrimary = models.filter((m) => metrics[m]![primary]);
    if (withPrimary.length) {
      parts.push(barChart(`${metricLabel(primary)}, A and B`, withPrimary.map(modelLabel), [
        { name: 'A', values: withPrimary.map((m) => metrics[m]![primary]!.a ?? 0) },
        { name: 'B', values: withPrimary.map((m) => metrics[m]![primary]!.b ?? 0) },
      ]));
    }
  }
  // Per query: the model both runs rank by (fine-tuned when both have it).
  const model = rankingModel(Object.fromEntries(models.map((m) => [m, {}])));
  // The primary set's queries (rows of evaluate.sets carry `set`).
  const perQuery = (r: RunDirInfo) => (existsSync(join(r.dir, PER_QUERY_JSONL)) ? readJsonl<PerQuery>(join(r.dir, PER_QUERY_JSONL)) : []).filter((q) => q.set === undefined);
  if (model) {
    const map = (r: RunDirInfo) => new Map(perQuery(r).filter((q) => q.model === model).map((q) => [q.query_id, q]));
    const a = map(A);
    const b = map(B);
    if (a.size && b.size) {
      const k = Math.max(...[...a.values(), ...b.values()].map((q) => q.top.length));
      const { better, worse } = changedQueries(a, b, k, ['A', 'B']);
      parts.push(`<h2>Queries B (${escapeHtml(modelLabel(model))}) ranks worse than A</h2>`, worse, `<h2>Queries B (${escapeHtml(modelLabel(model))}) ranks better than A</h2>`, better);
    }
  }
  return page('ftrun diff', parts.join('\n'));
}

export interface SweepDiffHtml {
  names: { a: string; b: string };
  primary: string;
  best: { a: { index: number; overrides: Record<string, unknown>; value: number | null } | null; b: { index: number; overrides: Record<string, unknown>; value: number | null } | null; delta: number | null; ci?: DeltaInterval };
  trials: Array<{ overrides: Record<string, unknown>; a: { index: number; status: string; value: number | null } | null; b: { index: number; status: string; value: number | null } | null; delta: number | null; ci?: DeltaInterval }>;
}

export function renderSweepDiffHtml(d: SweepDiffHtml): string {
  const label = metricLabel(d.primary);
  const bestLine = (e: SweepDiffHtml['best']['a']) => (e ? `trial ${e.index}, ${formatNumber(e.value)} (${escapeHtml(formatOverrides(e.overrides))})` : 'no ranked trial');
  const cell = (s: { status: string; value: number | null } | null) => (!s ? '—' : s.status === 'ok' && s.value !== null ? formatNumber(s.value) : escapeHtml(s.status));
  const parts = [
    '<h1>ftrun diff (sweeps)</h1>',
    `<p>A: <code>${escapeHtml(d.names.a)}</code><br>B: <code>${escapeHtml(d.names.b)}</code><br>primary: ${escapeHtml(label)}</p>`,
    `<p>best A: ${bestLine(d.best.a)}<br>best B: ${bestLine(d.best.b)}<br>best Δ (B − A): ${signedWithInterval(d.best.delta, d.best.ci)}</p>`,
    `<h2>Trials by overrides (${escapeHtml(label)})</h2>`,
    htmlTable(['overrides', 'A trial', 'A', 'B trial', 'B', 'Δ'], d.trials.map((t) => [escapeHtml(formatOverrides(t.overrides)), t.a ? String(t.a.index) : '—', cell(t.a), t.b ? String(t.b.index) : '—', cell(t.b), signedWithInterval(t.delta, t.ci)]), (i) => i > 0),
    ...(d.best.ci || d.trials.some((t) => t.ci) ? [`<p class="muted">${escapeHtml(intervalNote())}</p>`] : []),
  ];
  const both = d.trials.filter((t) => t.a?.value != null || t.b?.value != null);
  if (both.length) {
    parts.push(barChart(`${label} by trial, A and B`, both.map((t) => formatOverrides(t.overrides)), [
      { name: 'A', values: both.map((t) => t.a?.value ?? 0) },
      { name: 'B', values: both.map((t) => t.b?.value ?? 0) },
    ]));
  }
  return page('ftrun diff (sweeps)', parts.join('\n'));
}
