/**
 * leaderboard.html of a sweep: the trials ranked by the primary metric with their swept
 * parameters, and one chart per swept parameter of the primary metric against its values.
 */
import { formatNumber, formatOverrides, metricLabel, modelLabel } from '../report.js';
import type { Leaderboard } from '../run/records.js';
import { leaderboardNotes, leaderboardSets } from '../leaderboard.js';
import type { DeltaInterval } from '../stats.js';
import { FULL_WIDTH, HALF_WIDTH, scatterChart, type ScatterPoint } from './charts.js';
import { outcomeHead, outcomeOf } from '../run-outcome.js';
import { escapeHtml, htmlTable, page, signedWithInterval } from './page.js';

/** A swept value as a chart axis value: numbers stay numbers, anything else its compact JSON. */
const axisValue = (v: unknown): number | string => (typeof v === 'number' ? v : typeof v === 'string' ? v : JSON.stringify(v));

/**
 * `reports`: the trials (by number) whose report.html exists, linked from the trial column as
 * `<run_dir>/report.html` (run_dir relative to the sweep directory, where leaderboard.html is).
 */
export function renderLeaderboardHtml(board: Leaderboard, title: string, digits = 3, reports: ReadonlySet<number> = new Set()): string {
  const { primary, trials } = board;
  // every metric of the ranking model, the primary one first (its column), the others after the Δs
  const others = [...new Set(trials.flatMap((t) => Object.keys(t.metrics)))].filter((k) => k !== primary);
  const href = (t: (typeof trials)[number]) => `${t.run_dir.split(/[\\/]/).map(encodeURIComponent).join('/')}/report.html`;
  const outcome = (t: (typeof trials)[number]) => outcomeHead(outcomeOf(t));
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
    reports.has(t.index) ? `<a href="${escapeHtml(href(t))}">${t.index}</a>` : String(t.index),
    escapeHtml(formatOverrides(t.overrides)),
    t.model ? escapeHtml(modelLabel(t.model)) : '—',
    t.rank !== null ? formatNumber(t.value, digits) : t.error !== undefined || t.stage !== undefined || t.after_stage !== undefined ? `<a href="#trial-${t.index}">${escapeHtml(outcome(t))}</a>` : escapeHtml(t.status),
    signed(t.delta, t.delta_ci),
    ...(showBest ? [t.rank === 1 ? 'best' : t.vs_best?.metrics[primary] ? signed(t.vs_best.metrics[primary]!.delta, t.vs_best.metrics[primary]) : '—'] : []),
    ...(showMerged ? [t.rank === null ? '—' : formatNumber(t.merged?.value, digits), t.rank === null ? '—' : signed(t.merged?.delta, t.merged?.ci)] : []),
    ...sets.flatMap((set) => [t.rank === null ? '—' : signed(t.sets?.[set]?.delta, t.sets?.[set]?.ci), ...(showMerged ? [t.rank === null ? '—' : signed(t.sets?.[set]?.merged?.delta, t.sets?.[set]?.merged?.ci)] : [])]),
    ...others.map((k) => (t.rank === null ? '—' : formatNumber(t.metrics[k], digits))),
  ]);
  const parts = [
    `<h1>Leaderboard: ${escapeHtml(title)}</h1>`,
    `<p>Ranked by ${escapeHtml(label)} of the fine-tuned model (the base model for trials without one), best first; ${ranked.length} of ${trials.length} trials ranked.${showMerged ? ' The merged columns are the weight average with the base model (training.merge).' : ''}</p>`,
    // every metric makes the table wide: it scrolls inside the page, the page does not
    `<div class="scroll">${htmlTable(
      ['rank', 'trial', 'overrides', 'model', label, `Δ ${label}`, ...(showBest ? [`Δ best ${label}`] : []), ...(showMerged ? [`merged ${label}`, `Δ merged ${label}`] : []), ...sets.flatMap((set) => [`Δ ${label} [${set}]`, ...(showMerged ? [`Δ merged ${label} [${set}]`] : [])]), ...others.map(metricLabel)],
      rows,
      (i) => i < 2 || i > 3,
    )}</div>`,
    ...leaderboardNotes(trials).map((l) => `<p class="muted">${escapeHtml(l)}</p>`),
  ];
  // trials that did not finish: where each stopped and why (its env.json)
  const unfinished = trials.filter((t) => t.error !== undefined || t.stage !== undefined || t.after_stage !== undefined);
  if (unfinished.length) {
    parts.push('<h2>Trials that did not finish</h2>');
    for (const t of unfinished) {
      const name = reports.has(t.index) ? `<a href="${escapeHtml(href(t))}">Trial ${t.index}</a>` : `Trial ${t.index}`;
      parts.push(`<div class="error" id="trial-${t.index}"><b>${name} (${escapeHtml(formatOverrides(t.overrides))}): ${escapeHtml(outcome(t))}</b>${t.error ? `\n${escapeHtml(t.error)}` : ''}</div>`);
    }
  }
  const params = [...new Set(trials.flatMap((t) => Object.keys(t.overrides)))];
  if (ranked.length && params.length) {
    const charts = params.map((p) => {
      // each point labelled with its trial
      const points = (value: (t: (typeof ranked)[number]) => number | null | undefined): ScatterPoint[] =>
        ranked.filter((t) => p in t.overrides && typeof value(t) === 'number').map((t) => [axisValue(t.overrides[p]), value(t)!, `trial ${t.index}`]);
      const series = [{ name: showMerged ? modelLabel('finetuned') : 'trials', points: points((t) => t.value) }];
      if (showMerged) series.push({ name: 'merged', points: points((t) => t.merged?.value) });
      for (const set of sets) {
        series.push({ name: `${showMerged ? modelLabel('finetuned') : 'trials'} [${set}]`, points: points((t) => t.sets?.[set]?.value) });
        if (showMerged) series.push({ name: `merged [${set}]`, points: points((t) => t.sets?.[set]?.merged?.value) });
      }
      return scatterChart(`${label} by ${p}`, p, label, series, { width: params.length === 1 ? FULL_WIDTH : HALF_WIDTH });
    });
    parts.push('<h2>By swept parameter</h2>', `<div class="charts">${charts.join('\n')}</div>`);
  }
  return page(`Leaderboard: ${title}`, parts.join('\n'));
}
