/**
 * Sweep leaderboards: trials ranked by the primary metric of their fine-tuned model (the base
 * model where a trial trained nothing), best first; trials that are not `ok` (failed,
 * interrupted, pending, and `stopped` by sweep.stop: its fine-tuned model was never evaluated,
 * so it is never the best) come last, unranked, in trial order. Written as leaderboard.json and
 * leaderboard.md in the sweep directory, atomically.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from './fsutil.js';
import {
  formatNumber,
  formatOverrides,
  mdFence,
  mdText,
  metricLabel,
  modelLabel,
  rankingModel,
  renderTable,
  type TableFormat,
} from './report.js';
import { LEADERBOARD_HTML, LEADERBOARD_JSON, LEADERBOARD_MD, REPORT_HTML, type Leaderboard, type LeaderboardEntry, type PerQuery, type RunMetrics } from './run/records.js';
import { pairRuns, readPerQueryRows } from './run/intervals.js';
import { outcomeHead, outcomeOf, trialOutcomeFields } from './run-outcome.js';
import { formatDeltaWithInterval, intervalNote, intervalsOf, type DeltaInterval } from './stats.js';

export interface LeaderboardTrial {
  index: number;
  overrides: Record<string, unknown>;
  runDir: string;
  status: string;
  /** The trial's metrics.json content, when it has one. */
  metrics?: RunMetrics | Record<string, unknown> | null;
}

function asMetrics(m: LeaderboardTrial['metrics']): RunMetrics | undefined {
  const o = m as RunMetrics | null | undefined;
  return o && typeof o === 'object' && o.models && typeof o.models === 'object' ? o : undefined;
}

const finite = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/**
 * Rank trials (see the header). `run_dir` is kept as given. With `versusBest`, each ranked trial
 * but the best gets `vs_best`: trial − best trial per metric, paired per query from both trials'
 * per_query.jsonl, with its interval and p-value (core/stats.ts).
 */
export function rankTrials(trials: LeaderboardTrial[], primary: string, opts: { versusBest?: boolean } = {}): LeaderboardEntry[] {
  const entries = trials.map((t): LeaderboardEntry => {
    const m = asMetrics(t.metrics);
    const model = m ? rankingModel(m.models) ?? null : null;
    const metrics = model ? { ...m!.models[model] } : {};
    const v = metrics[primary];
    const base = m?.models.base?.[primary];
    const tuned = m?.models.finetuned?.[primary];
    const d = m?.delta?.[primary] ?? (base !== undefined && tuned !== undefined ? tuned - base : undefined);
    // training.merge: the merged model's primary metric beside the ranking one, and merged − base
    const mv = m?.models.merged?.[primary];
    const md = m?.delta_merged?.[primary] ?? (base !== undefined && mv !== undefined ? mv - base : undefined);
    const withCi = (ci: DeltaInterval | undefined) => (ci && typeof ci === 'object' ? { ci } : {});
    const merged = m?.models.merged ? { merged: { value: finite(mv), delta: finite(md), ...withCi(m.delta_merged_ci?.[primary]) } } : {};
    // evaluate.sets: the same figures on each evaluation set (e.g. a general one: what fine-tuning cost there)
    const setEntries = Object.entries(m?.sets && typeof m.sets === 'object' ? m.sets : {}).map(([set, models]) => {
      const b = models.base?.[primary];
      const at = (name: string) => {
        const x = models[name]?.[primary];
        return { value: finite(x), delta: name !== 'base' && b !== undefined && x !== undefined ? finite(x - b) : null, ...withCi(m?.sets_delta_ci?.[set]?.[name]?.[primary]) };
      };
      return [set, { ...(model ? at(model) : { value: null, delta: null }), ...(models.merged ? { merged: at('merged') } : {}) }] as const;
    });
    const sets = setEntries.length ? { sets: Object.fromEntries(setEntries) } : {};
    const ci = m?.delta_ci?.[primary];
    return {
      rank: null,
      index: t.index,
      overrides: t.overrides,
      run_dir: t.runDir,
      status: t.status,
      model,
      value: typeof v === 'number' && Number.isFinite(v) ? v : null,
      delta: typeof d === 'number' && Number.isFinite(d) ? d : null,
      ...(ci && typeof ci === 'object' ? { delta_ci: ci } : {}),
      metrics,
      ...trialOutcomeFields(t.runDir, t.status),
      ...merged,
      ...sets,
    };
  });
  const ranked = entries.filter((e) => e.status === 'ok' && e.value !== null).sort((a, b) => b.value! - a.value! || a.index - b.index);
  ranked.forEach((e, i) => (e.rank = i + 1));
  if (opts.versusBest) addVersusBest(ranked);
  const rest = entries.filter((e) => e.rank === null).sort((a, b) => a.index - b.index);
  return [...ranked, ...rest];
}

/** Paired comparisons already made in this process, by `<best run dir>\0<trial run dir>\0<model>` (a finished trial's per-query results do not change). */
const versusBestCache = new Map<string, LeaderboardEntry['vs_best'] | null>();

/** `vs_best` of each ranked trial after the first: trial − best, paired per query, of the ranking model when both rank by the same one. */
function addVersusBest(ranked: LeaderboardEntry[]): void {
  const best = ranked[0];
  if (!best?.model) return;
  let bestRows: PerQuery[] | undefined;
  for (const e of ranked.slice(1)) {
    if (e.model !== best.model) continue;
    const key = `${best.run_dir}\0${e.run_dir}\0${e.model}`;
    if (!versusBestCache.has(key)) {
      bestRows ??= readPerQueryRows(best.run_dir);
      const p = pairRuns(bestRows, readPerQueryRows(e.run_dir), e.model);
      const r = (x: number) => Number(x.toFixed(6));
      const metrics = Object.fromEntries(Object.entries(p.metrics).map(([k, m]) => [k, { delta: r(m.delta), ...intervalsOf({ [k]: m })[k]! }]));
      versusBestCache.set(key, p.paired ? { trial: best.index, queries: p.paired, only_trial: p.only_b, only_best: p.only_a, metrics } : null);
    }
    const vs = versusBestCache.get(key);
    if (vs) e.vs_best = vs;
  }
}

/** The evaluation sets (`evaluate.sets`) of the entries, in the order they first appear. */
export function leaderboardSets(entries: LeaderboardEntry[]): string[] {
  return [...new Set(entries.flatMap((e) => Object.keys(e.sets ?? {})))];
}

/**
 * The leaderboard table: rank, trial, overrides, primary (and Δ vs base), the merged model's
 * primary and its Δ vs base when a trial has one (training.merge), per evaluation set
 * (`evaluate.sets`) the Δ vs base of the ranking model and of the merged one (`Δ MRR@1 [general]`),
 * other metrics.
 */
export function renderLeaderboardTable(entries: LeaderboardEntry[], primary: string, format: TableFormat, digits = 3): string {
  const others: string[] = [];
  for (const e of entries) for (const k of Object.keys(e.metrics)) if (k !== primary && !others.includes(k)) others.push(k);
  const models = new Set(entries.filter((e) => e.rank !== null).map((e) => e.model));
  const showModel = models.size > 1;
  const showDelta = entries.some((e) => e.delta !== null);
  const showBest = entries.some((e) => e.vs_best);
  const showMerged = entries.some((e) => e.merged !== undefined);
  const sets = leaderboardSets(entries);
  const header = [
    'rank', 'trial', 'overrides', ...(showModel ? ['model'] : []), metricLabel(primary),
    ...(showDelta ? [`Δ ${metricLabel(primary)}`] : []),
    ...(showBest ? [`Δ best ${metricLabel(primary)}`] : []),
    ...(showMerged ? [`merged ${metricLabel(primary)}`, `Δ merged ${metricLabel(primary)}`] : []),
    ...sets.flatMap((set) => [`Δ ${metricLabel(primary)} [${set}]`, ...(showMerged ? [`Δ merged ${metricLabel(primary)} [${set}]`] : [])]),
    ...others.map(metricLabel),
  ];
  const rows = entries.map((e) => {
    const ok = e.rank !== null;
    return [
      ok ? String(e.rank) : '—',
      String(e.index),
      formatOverrides(e.overrides),
      ...(showModel ? [e.model ? modelLabel(e.model) : '—'] : []),
      ok ? formatNumber(e.value, digits) : outcomeHead(outcomeOf(e)),
      ...(showDelta ? [ok ? formatDeltaWithInterval(e.delta, e.delta_ci, digits) : '—'] : []),
      ...(showBest ? [e.rank === 1 ? 'best' : e.vs_best?.metrics[primary] ? formatDeltaWithInterval(e.vs_best.metrics[primary]!.delta, e.vs_best.metrics[primary], digits) : '—'] : []),
      ...(showMerged ? [ok ? formatNumber(e.merged?.value, digits) : '—', ok ? formatDeltaWithInterval(e.merged?.delta, e.merged?.ci, digits) : '—'] : []),
      ...sets.flatMap((set) => [ok ? formatDeltaWithInterval(e.sets?.[set]?.delta, e.sets?.[set]?.ci, digits) : '—', ...(showMerged ? [ok ? formatDeltaWithInterval(e.sets?.[set]?.merged?.delta, e.sets?.[set]?.merged?.ci, digits) : '—'] : [])]),
      ...others.map((k) => (ok ? formatNumber(e.metrics[k], digits) : '—')),
    ];
  });
  // Δs with intervals line up on their first character (their widths differ: `n.s.`)
  const withIntervals = entries.some((e) => e.delta_ci || e.vs_best || e.merged?.ci || Object.values(e.sets ?? {}).some((x) => x.ci || x.merged?.ci));
  const align = header.map((h, i) => (i === 2 || (showModel && i === 3) || (withIntervals && h.startsWith('Δ ')) ? 'left' : 'right') as 'left' | 'right');
  return renderTable(header, rows, { format, align });
}

/**
 * Write leaderboard.json (`{primary, trials: LeaderboardEntry[]}`, run_dir relative to the sweep
 * directory) and leaderboard.md into `sweepDir`; returns the ranked entries.
 */
export function writeLeaderboard(sweepDir: string, trials: LeaderboardTrial[], primary: string): LeaderboardEntry[] {
  const entries = rankTrials(trials, primary, { versusBest: true }).map((e) => ({ ...e, run_dir: isAbsolute(e.run_dir) ? relative(sweepDir, e.run_dir) || '.' : e.run_dir }));
  const board: Leaderboard = { primary, trials: entries };
  writeJsonAtomic(join(sweepDir, LEADERBOARD_JSON), board);
  writeFileAtomic(join(sweepDir, LEADERBOARD_MD), renderLeaderboardMarkdown(board, `${basename(dirname(sweepDir))} / ${basename(sweepDir)}`));
  return entries;
}

/** leaderboard.html beside leaderboard.md (the charting library loads only here). */
export async function writeLeaderboardHtml(sweepDir: string, board: Leaderboard): Promise<void> {
  const { renderLeaderboardHtml } = await import('./html/leaderboard.js');
  // the trials whose report.html exists (sink html), linked from the page
  const reports = new Set(board.trials.filter((e) => existsSync(join(isAbsolute(e.run_dir) ? e.run_dir : join(sweepDir, e.run_dir), REPORT_HTML))).map((e) => e.index));
  writeFileAtomic(join(sweepDir, LEADERBOARD_HTML), renderLeaderboardHtml(board, `${basename(dirname(sweepDir))} / ${basename(sweepDir)}`, 3, reports));
}

/** The sentences under a leaderboard table that has intervals: what Δ best is, what the intervals are. */
export function leaderboardNotes(entries: LeaderboardEntry[]): string[] {
  const best = entries.find((e) => e.vs_best)?.vs_best;
  const withCi = entries.some((e) => e.delta_ci || e.merged?.ci || Object.values(e.sets ?? {}).some((x) => x.ci || x.merged?.ci));
  const out: string[] = [];
  if (best) out.push(`Δ best: the trial − the best trial (trial ${best.trial}), paired per query over the queries both evaluated.`);
  if (best || withCi) out.push(intervalNote(best?.queries));
  return out;
}

export function renderLeaderboardMarkdown(board: Leaderboard, title: string): string {
  const ok = board.trials.filter((e) => e.rank !== null).length;
  const n = board.trials.length;
  const lines = [
    `# Leaderboard: ${mdText(title)}`,
    '',
    `Ranked by ${mdText(metricLabel(board.primary))} of the fine-tuned model (the base model for trials without one), best first; ` +
      `${ok} of ${n} trial${n === 1 ? '' : 's'} ranked.` +
      (board.trials.some((e) => e.merged !== undefined) ? ` The merged columns are the weight average with the base model (training.merge).` : ''),
    '',
    renderLeaderboardTable(board.trials, board.primary, 'md'),
    ...leaderboardNotes(board.trials).flatMap((l) => ['', mdText(l)]),
  ];
  // trials that did not finish: where each stopped and why (its env.json)
  const unfinished = board.trials.filter((e) => e.error !== undefined || e.stage !== undefined || e.after_stage !== undefined);
  if (unfinished.length) {
    lines.push('', '## Trials that did not finish');
    for (const e of unfinished) {
      lines.push('', `Trial ${e.index} (${mdText(formatOverrides(e.overrides))}): ${mdText(outcomeHead(outcomeOf(e)))}`);
      if (e.error) lines.push('', mdFence(e.error));
    }
  }
  return lines.join('\n') + '\n';
}
