/**
 * leaderboard.html of a sweep: the trials ranked by the primary metric with their swept
 * parameters, and one chart per swept parameter of the primary metric against its values.
 */
import { formatNumber, formatOverrides, formatSigned, metricLabel, modelLabel } from '../report.js';
import type { Leaderboard } from '../run/records.js';
import { leaderboardSets } from '../leaderboard.js';
import { scatterChart } from './charts.js';
import { escapeHtml, htmlTable, page, signedClass } from './page.js';

/** A swept value as a chart axis value: numbers stay numbers, anything else its compact JSON. */
const axisValue = (v: unknown): number | string => (typeof v === 'number' ? v : typeof v === 'string' ? v : JSON.stringify(v));

export function renderLeaderboardHtml(board: Leaderboard, title: string, digits = 3): string {
  const { primary, trials } = board;
  const ranked = trials.filter((t) => t.rank !== null);
  const label = metricLabel(primary);
  // training.merge: the merged model's primary metric and its Δ vs base beside the ranking model's
  const showMerged = trials.some((t) => t.merged !== undefined);
  // evaluate.sets: per evaluation set, the Δ vs base of the ranking model and of the merged one
  const sets = leaderboardSets(trials);
  const signed = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `<span class="${signedClass(x)}">${formatSigned(x, digits)}</span>`);
  const rows = trials.map((t) => [
    t.rank === null ? '—' : String(t.rank),
    String(t.index),
    escapeHtml(formatOverrides(t.overrides)),
    t.model ? escapeHtml(modelLabel(t.model)) : '—',
    t.rank === null ? escapeHtml(t.status) : formatNumber(t.value, digits),
    signed(t.delta),
    ...(showMerged ? [t.rank === null ? '—' : formatNumber(t.merged?.value, digits), t.rank === null ? '—' : signed(t.merged?.delta)] : []),
    ...sets.flatMap((set) => [t.rank === null ? '—' : signed(t.sets?.[set]?.delta), ...(showMerged ? [t.rank === null ? '—' : signed(t.sets?.[set]?.merged?.delta)] : [])]),
  ]);
  const parts = [
    `<h1>Leaderboard: ${escapeHtml(title)}</h1>`,
    `<p>Ranked by ${escapeHtml(label)} of the fine-tuned model (the base model for trials without one), best first; ${ranked.length} of ${trials.length} trials ranked.${showMerged ? ' The merged columns are the weight average with the base model (training.merge).' : ''}</p>`,
    htmlTable(
      ['rank', 'trial', 'overrides', 'model', label, `Δ ${label}`, ...(showMerged ? [`merged ${label}`, `Δ merged ${label}`] : []), ...sets.flatMap((set) => [`Δ ${label} [${set}]`, ...(showMerged ? [`Δ merged ${label} [${set}]`] : [])])],
      rows,
      (i) => i < 2 || i > 3,
    ),
  ];
  const params = [...new Set(trials.flatMap((t) => Object.keys(t.overrides)))];
  if (ranked.length && params.length) {
    const charts = params.map((p) => {
      const points = (value: (t: (typeof ranked)[number]) => number | null | undefined): Array<[number | string, number]> =>
        ranked.filter((t) => p in t.overrides && typeof value(t) === 'number').map((t) => [axisValue(t.overrides[p]), value(t)!]);
      const series = [{ name: showMerged ? modelLabel('finetuned') : 'trials', points: points((t) => t.value) }];
      if (showMerged) series.push({ name: 'merged', points: points((t) => t.merged?.value) });
      for (const set of sets) {
        series.push({ name: `${showMerged ? modelLabel('finetuned') : 'trials'} [${set}]`, points: points((t) => t.sets?.[set]?.value) });
        if (showMerged) series.push({ name: `merged [${set}]`, points: points((t) => t.sets?.[set]?.merged?.value) });
      }
      return scatterChart(`${label} by ${p}`, p, label, series);
    });
    parts.push('<h2>By swept parameter</h2>', `<div class="charts">${charts.join('\n')}</div>`);
  }
  return page(`Leaderboard: ${title}`, parts.join('\n'));
}
