/**
 * The pieces of ftrun's HTML reports (run report, sweep leaderboard, diff): escaping, tables and a
 * self-contained page (inline CSS; charts are inline SVG from core/html/charts.ts; no script).
 */
import { formatNumber, formatSigned, metricKeys, metricLabel, modelLabel, orderModels } from '../report.js';
import type { RunSummary } from '../types.js';
import { formatDeltaWithInterval, type DeltaInterval } from '../stats.js';

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function htmlTable(header: string[], rows: string[][], numeric: (col: number) => boolean = () => false): string {
  const cell = (tag: string, v: string, i: number) => `<${tag}${numeric(i) ? ' class="num"' : ''}>${v}</${tag}>`;
  return `<table><thead><tr>${header.map((h, i) => cell('th', escapeHtml(h), i)).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((v, i) => cell('td', v, i)).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

export const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}.up{color:#2a7b2a}.down{color:#b3261e}.ns{color:#777}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:1rem}svg{display:block;max-width:100%;height:auto}.scroll{overflow-x:auto;max-width:100%}.error{border-left:4px solid #b3261e;background:#fdf0ef;padding:.5rem .75rem;white-space:pre-wrap}pre{background:#f7f7f7;padding:.75rem;overflow:auto;font-size:12px}.muted{color:#666}`;

/** The whole page around `body`. */
export function page(title: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>\n${body}\n</body></html>\n`;
}


export const signedClass = (x: number | undefined) => (x === undefined || x === 0 ? '' : x > 0 ? 'up' : 'down');

/**
 * A Δ with its interval and p-value (core/stats.ts), coloured by sign; a difference that is not
 * significant is grey and says `n.s.` (class `ns`). The bare Δ when there is no interval.
 */
export function signedWithInterval(x: number | null | undefined, ci: DeltaInterval | undefined, digits = 3): string {
  if (x === null || x === undefined) return formatSigned(x, digits);
  const cls = ci && !ci.significant ? 'ns' : signedClass(x);
  return `<span class="${cls}">${escapeHtml(formatDeltaWithInterval(x, ci, digits))}</span>`;
}

/**
 * The metrics table: one row per metric, a column per model, Δ (fine-tuned − base) when both were
 * evaluated, and `Δ merged` (merged − base, training.merge) when those two were.
 */
export function metricsTable(summary: Pick<RunSummary, 'models' | 'delta' | 'delta_merged' | 'delta_ci' | 'delta_merged_ci'>, digits: number): string {
  const models = orderModels(Object.keys(summary.models));
  const hasDelta = Object.keys(summary.delta).length > 0;
  const merged = summary.delta_merged && Object.keys(summary.delta_merged).length > 0 ? summary.delta_merged : undefined;
  const rows = metricKeys(summary.models).map((k) => [
    escapeHtml(metricLabel(k)),
    ...models.map((m) => formatNumber(summary.models[m]?.[k], digits)),
    ...(hasDelta ? [signedWithInterval(summary.delta[k], summary.delta_ci?.[k], digits)] : []),
    ...(merged ? [signedWithInterval(merged[k], summary.delta_merged_ci?.[k], digits)] : []),
  ]);
  return htmlTable(['metric', ...models.map(modelLabel), ...(hasDelta ? ['Δ'] : []), ...(merged ? ['Δ merged'] : [])], rows, (i) => i > 0);
}

