/**
 * Sweep leaderboards: trials ranked by the primary metric of their fine-tuned model (the base
 * model where a trial trained nothing), best first; trials that are not `ok` (failed,
 * interrupted, pending) come last, unranked, in trial order. Written as leaderboard.json and
 * leaderboard.md in the sweep directory, atomically.
 */
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from './fsutil.js';
import {
  formatNumber,
  formatOverrides,
  formatSigned,
  mdText,
  metricLabel,
  modelLabel,
  rankingModel,
  renderTable,
  type TableFormat,
} from './report.js';
import { LEADERBOARD_HTML, LEADERBOARD_JSON, LEADERBOARD_MD, type Leaderboard, type LeaderboardEntry, type RunMetrics } from './run/records.js';

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

/** Rank trials (see the header). `run_dir` is kept as given. */
export function rankTrials(trials: LeaderboardTrial[], primary: string): LeaderboardEntry[] {
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
    const merged = m?.models.merged ? { merged: { value: finite(mv), delta: finite(md) } } : {};
    // evaluate.sets: the same figures on each evaluation set (e.g. a general one: what fine-tuning cost there)
    const setEntries = Object.entries(m?.sets && typeof m.sets === 'object' ? m.sets : {}).map(([set, models]) => {
      const b = models.base?.[primary];
      const at = (name: string) => {
        const x = models[name]?.[primary];
        return { value: finite(x), delta: name !== 'base' && b !== undefined && x !== undefined ? finite(x - b) : null };
      };
      return [set, { ...(model ? at(model) : { value: null, delta: null }), ...(models.merged ? { merged: at('merged') } : {}) }] as const;
    });
    const sets = setEntries.length ? { sets: Object.fromEntries(setEntries) } : {};
    return {
      rank: null,
      index: t.index,
      overrides: t.overrides,
      run_dir: t.runDir,
      status: t.status,
      model,
      value: typeof v === 'number' && Number.isFinite(v) ? v : null,
      delta: typeof d === 'number' && Number.isFinite(d) ? d : null,
      metrics,
      ...merged,
      ...sets,
    };
  });
  const ranked = entries.filter((e) => e.status === 'ok' && e.value !== null).sort((a, b) => b.value! - a.value! || a.index - b.index);
  ranked.forEach((e, i) => (e.rank = i + 1));
  const rest = entries.filter((e) => e.rank === null).sort((a, b) => a.index - b.index);
  return [...ranked, ...rest];
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
  const showMerged = entries.some((e) => e.merged !== undefined);
  const sets = leaderboardSets(entries);
  const header = [
    'rank', 'trial', 'overrides', ...(showModel ? ['model'] : []), metricLabel(primary),
    ...(showDelta ? [`Δ ${metricLabel(primary)}`] : []),
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
      ok ? formatNumber(e.value, digits) : e.status,
      ...(showDelta ? [ok ? formatSigned(e.delta, digits) : '—'] : []),
      ...(showMerged ? [ok ? formatNumber(e.merged?.value, digits) : '—', ok ? formatSigned(e.merged?.delta, digits) : '—'] : []),
      ...sets.flatMap((set) => [ok ? formatSigned(e.sets?.[set]?.delta, digits) : '—', ...(showMerged ? [ok ? formatSigned(e.sets?.[set]?.merged?.delta, digits) : '—'] : [])]),
      ...others.map((k) => (ok ? formatNumber(e.metrics[k], digits) : '—')),
    ];
  });
  const align = header.map((_, i) => (i === 2 || (showModel && i === 3) ? 'left' : 'right') as 'left' | 'right');
  return renderTable(header, rows, { format, align });
}

/**
 * Write leaderboard.json (`{primary, trials: LeaderboardEntry[]}`, run_dir relative to the sweep
 * directory) and leaderboard.md into `sweepDir`; returns the ranked entries.
 */
export function writeLeaderboard(sweepDir: string, trials: LeaderboardTrial[], primary: string): LeaderboardEntry[] {
  const entries = rankTrials(trials, primary).map((e) => ({ ...e, run_dir: isAbsolute(e.run_dir) ? relative(sweepDir, e.run_dir) || '.' : e.run_dir }));
  const board: Leaderboard = { primary, trials: entries };
  writeJsonAtomic(join(sweepDir, LEADERBOARD_JSON), board);
  writeFileAtomic(join(sweepDir, LEADERBOARD_MD), renderLeaderboardMarkdown(board, `${basename(dirname(sweepDir))} / ${basename(sweepDir)}`));
  return entries;
}

/** leaderboard.html beside leaderboard.md (the charting library loads only here). */
export async function writeLeaderboardHtml(sweepDir: string, board: Leaderboard): Promise<void> {
  const { renderLeaderboardHtml } = await import('./html/leaderboard.js');
  writeFileAtomic(join(sweepDir, LEADERBOARD_HTML), renderLeaderboardHtml(board, `${basename(dirname(sweepDir))} / ${basename(sweepDir)}`));
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
  ];
  return lines.join('\n') + '\n';
}
