/**
 * leaderboard.html of a sweep: the trials ranked by the primary metric with their swept
 * parameters, and one chart per swept parameter of the primary metric against its values.
 */
import { formatNumber, formatOverrides, metricLabel, modelLabel } from '../report.js';
import type { Leaderboard } from '../run/records.js';
import { leaderboardNotes, leaderboardSets } from '../leaderboard.js';
import type { DeltaInterval } from '../stats.js';
import { scatterChart } from './charts.js';
import { escapeHtml, htmlTable, page, signedWithInterval } from './page.js';

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
  // trial − best trial (paired per query), and each Δ with its interval when the trials recorded them
  const showBest = trials.some((t) => t.vs_best);
  const signed = (x: number | null | undefined, ci?: DeltaInterval) => (x === null || x === undefined ? '—' : signedWithInterval(x, ci, digits));
  const rows = trials.map((t) => [
    t.rank === null ? '—' : String(t.rank),
    String(t.index),
    escapeHtml(formatOverrides(t.overrides)),
    t.model ? escapeHtml(modelLabel(t.model)) : '—',
    t.rank === null ? escapeHtml(t.status) : formatNumber(t.value, digits),
    signed(t.delta, t.delta_ci),
    ...(showBest ? [t.rank === 1 ? 'best' : t.vs_best?.metrics[primary] ? signed(t.vs_best.metrics[primary]!.delta, t.vs_best.metrics[primary]) : '—'] : []),
    ...(showMerged ? [t.rank === null ? '—' : formatNumber(t.merged?.value, digits), t.rank === null ? '—' : signed(t.merged?.delta, t.merged?.ci)] : []),
    ...sets.flatMap((set) => [t.rank === null ? '—' : signed(t.sets?.[set]?.delta, t.sets?.[set]?.ci), ...(showMerged ? [t.rank === null ? '—' : signed(t.sets?.[set]?.merged?.delta, t.sets?.[set]?.merged?.ci)] : [])]),
  ]);
  const parts = [
    `<h1>Leaderboard: ${escapeHtml(title)}</h1>`,
    `<p>Ranked by ${escapeHtml(label)} of the fine-tuned model (the base model for trials without one), best first; ${ranked.length} of ${trials.length} trials ranked.${showMerged ? ' The merged columns are the weight average with the base model (training.merge).' : ''}</p>`,
    htmlTable(
      ['rank', 'trial', 'overrides', 'model', label, `Δ ${label}`, ...(showBest ? [`Δ best ${label}`] : []), ...(showMerged ? [`merged ${label}`, `Δ merged ${label}`] : []), ...sets.flatMap((set) => [`Δ ${label} [${set}]`, ...(showMerged ? [`Δ merged ${label} [${set}]`] : [])])],
      rows,
      (i) => i < 2 || i > 3,
    ),
    ...leaderboardNotes(trials).map((l) => `<p class="muted">${escapeHtml(l)}</p>`),
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
