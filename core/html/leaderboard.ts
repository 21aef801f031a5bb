/**
 * leaderboard.html of a sweep: the trials ranked by the primary metric with their swept
 * parameters, and one chart per swept parameter of the primary metric against its values.
 */
import { formatNumber, formatOverrides, formatSigned, metricLabel, modelLabel } from '../report.js';
import type { Leaderboard } from '../run/records.js';
import { scatterChart } from './charts.js';
import { escapeHtml, htmlTable, page, signedClass } from './page.js';

/** A swept value as a chart axis value: numbers stay numbers, anything else its compact JSON. */
const axisValue = (v: unknown): number | string => (typeof v === 'number' ? v : typeof v === 'string' ? v : JSON.stringify(v));

export function renderLeaderboardHtml(board: Leaderboard, title: string, digits = 3): string {
  const { primary, trials } = board;
  const ranked = trials.filter((t) => t.rank !== null);
  const label = metricLabel(primary);
  const rows = trials.map((t) => [
    t.rank === null ? '—' : String(t.rank),
    String(t.index),
    escapeHtml(formatOverrides(t.overrides)),
    t.model ? escapeHtml(modelLabel(t.model)) : '—',
    t.rank === null ? escapeHtml(t.status) : formatNumber(t.value, digits),
    t.delta === null ? '—' : `<span class="${signedClass(t.delta)}">${formatSigned(t.delta, digits)}</span>`,
  ]);
  const parts = [
    `<h1>Leaderboard: ${escapeHtml(title)}</h1>`,
    `<p>Ranked by ${escapeHtml(label)} of the fine-tuned model (the base model for trials without one), best first; ${ranked.length} of ${trials.length} trials ranked.</p>`,
    htmlTable(['rank', 'trial', 'overrides', 'model', label, `Δ ${label}`], rows, (i) => i < 2 || i > 3),
  ];
  const params = [...new Set(trials.flatMap((t) => Object.keys(t.overrides)))];
  if (ranked.length && params.length) {
    const charts = params.map((p) =>
      scatterChart(`${label} by ${p}`, p, label, [{ name: 'trials', points: ranked.filter((t) => p in t.overrides).map((t) => [axisValue(t.overrides[p]), t.value!]) }]),
    );
    parts.push('<h2>By swept parameter</h2>', `<div class="charts">${charts.join('\n')}</div>`);
  }
  return page(`Leaderboard: ${title}`, parts.join('\n'));
}
