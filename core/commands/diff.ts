/**
 * `ftrun diff <A> <B> [--md|--json] [--all]`: what changed between two runs (or sweep trials):
 * config keys as dotted paths (only the changed ones unless --all) and metric deltas B − A for
 * each model both evaluated. Between two sweep directories it compares their leaderboards:
 * the best trial of each and every trial's primary metric side by side, matched by overrides.
 *
 * --json (run vs run) is `{config: [{path, a, b}], metrics: {model: {key: {a, b, delta, ci}}},
 * queries: {model: {paired, only_a, only_b, missing}}}`; null stands for an absent key or metric.
 * `ci` ({low, high, p, significant}) is Δ's 95% paired bootstrap interval and randomization test
 * p-value over the queries both runs evaluated (core/stats.ts), absent without per-query results. A model at a truncated dimension (`evaluate.dims`) is
 * compared as `<model> @<d>`, on an evaluation set of `evaluate.sets` as `<model> [<set>]`.
 */
import { UserError } from '../errors.js';
import { groupConfigDiff } from '../config-diff.js';
import { rankTrials } from '../leaderboard.js';
import type { LeaderboardEntry } from '../run/records.js';
import { formatNumber, formatOverrides, formatValue, mdText, metricLabel, modelLabel, orderModels, renderTable } from '../report.js';
import { readRunOrSweep, type RunDirInfo, type SweepDirInfo } from '../run-reader.js';
import { diffPairings, pairRuns, readPerQueryRows, type PairingSummary } from '../run/intervals.js';
import { formatDeltaWithInterval, intervalNote, intervalsOf, type DeltaInterval } from '../stats.js';

export interface DiffArgs {
  a: string;
  b: string;
  all: boolean;
  format: 'text' | 'md' | 'json' | 'html';
}

export interface ConfigChange {
  path: string;
  a: unknown;
  b: unknown;
}

export interface RunDiff {
  config: ConfigChange[];
  /** Per model and metric; `ci`: the Δ's interval over the queries both runs evaluated (core/stats.ts), when there are per-query results. */
  metrics: Record<string, Record<string, { a: number | null; b: number | null; delta: number | null; ci?: DeltaInterval }>>;
  /** Per model: how many queries both runs evaluated (the intervals are over these), how many only one did, and why there is no interval. */
  queries: Record<string, PairingSummary>;
}

const ABSENT = Symbol('absent');

/** b − a without float noise (0.6 − 0.56 → 0.04, not 0.039999999999999925). */
function sub(b: number, a: number): number {
  return Number((b - a).toPrecision(12));
}

/** Leaves of a config as dotted paths (`loss.margin`, `sinks[0].type`); arrays of scalars are leaves. */
export function flattenConfig(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (Array.isArray(value) && value.some((v) => v !== null && typeof v === 'object') && prefix) {
    value.forEach((v, i) => flattenConfig(v, `${prefix}[${i}]`, out));
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length) {
    for (const [k, v] of Object.entries(value)) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, value);
  }
  return out;
}

/** Config changes A → B (every key with `all`), in A's key order then keys only B has. */
export function diffConfig(a: Record<string, unknown>, b: Record<string, unknown>, all: boolean): Array<ConfigChange & { changed: boolean; absentA: boolean; absentB: boolean }> {
  const fa = flattenConfig(a);
  const fb = flattenConfig(b);
  const keys = [...fa.keys(), ...[...fb.keys()].filter((k) => !fa.has(k))];
  return keys
    .map((path) => {
      const va = fa.has(path) ? fa.get(path) : ABSENT;
      const vb = fb.has(path) ? fb.get(path) : ABSENT;
      const changed = va === ABSENT || vb === ABSENT || JSON.stringify(va) !== JSON.stringify(vb);
      return { path, a: va === ABSENT ? null : va, b: vb === ABSENT ? null : vb, changed, absentA: va === ABSENT, absentB: vb === ABSENT };
    })
    .filter((c) => all || c.changed);
}

/**
 * The changed config keys A → B as `ftrun diff` shows them (text, --md, --html): grouped per plugin
 * block and sorted (groupConfigDiff, as `ftrun compare`), a plugin swap (its `type` differs) one
 * row, its `type`, not each option that comes and goes with it.
 */
export function groupedConfigChanges(a: Record<string, unknown>, b: Record<string, unknown>): Array<ConfigChange & { changed: boolean; absentA: boolean; absentB: boolean }> {
  return groupConfigDiff([a, b]).map((r) => ({ path: r.path, a: r.values[0] ?? null, b: r.values[1] ?? null, changed: true, absentA: r.values[0] === undefined, absentB: r.values[1] === undefined }));
}

export function diffRuns(A: RunDirInfo, B: RunDirInfo, all: boolean): RunDiff {
  const config = diffConfig(A.config, B.config, all).map(({ path, a, b }) => ({ path, a, b }));
  const ma = A.metrics?.models ?? {};
  const mb = B.metrics?.models ?? {};
  const metrics: RunDiff['metrics'] = {};
  for (const model of orderModels(Object.keys(ma).filter((m) => m in mb))) {
    const keys = [...Object.keys(ma[model]!), ...Object.keys(mb[model]!).filter((k) => !(k in ma[model]!))];
    metrics[model] = Object.fromEntries(
      keys.map((k) => {
        const a = ma[model]![k] ?? null;
        const b = mb[model]![k] ?? null;
        return [k, { a, b, delta: a !== null && b !== null ? sub(b, a) : null }];
      }),
    );
  }
  // evaluate.dims: each model at each truncated dimension both runs have, as model `<model> @<d>`
  const da = A.metrics?.dims ?? {};
  const db = B.metrics?.dims ?? {};
  for (const model of orderModels(Object.keys(da).filter((m) => m in db))) {
    for (const dim of Object.keys(da[model]!).filter((x) => x in db[model]!).sort((x, y) => Number(y) - Number(x))) {
      const a0 = da[model]![dim]!;
      const b0 = db[model]![dim]!;
      const keys = [...Object.keys(a0), ...Object.keys(b0).filter((k) => !(k in a0))];
      metrics[`${model} @${dim}`] = Object.fromEntries(keys.map((k) => [k, { a: a0[k] ?? null, b: b0[k] ?? null, delta: a0[k] !== undefined && b0[k] !== undefined ? sub(b0[k]!, a0[k]!) : null }]));
    }
  }
  // evaluate.sets: each model on each evaluation set both runs have, as model `<model> [<set>]`
  const sa = A.metrics?.sets ?? {};
  const sb = B.metrics?.sets ?? {};
  for (const set of Object.keys(sa).filter((x) => x in sb)) {
    for (const model of orderModels(Object.keys(sa[set]!).filter((m) => m in sb[set]!))) {
      const a0 = sa[set]![model]!;
      const b0 = sb[set]![model]!;
      const keys = [...Object.keys(a0), ...Object.keys(b0).filter((k) => !(k in a0))];
      metrics[`${model} [${set}]`] = Object.fromEntries(keys.map((k) => [k, { a: a0[k] ?? null, b: b0[k] ?? null, delta: a0[k] !== undefined && b0[k] !== undefined ? sub(b0[k]!, a0[k]!) : null }]));
    }
  }
  // each Δ's interval, paired per query (matched by query id and text) from the two runs' per_query.jsonl
  // (none when neither run has per-query results: runs older than per_query.jsonl)
  const rowsA = readPerQueryRows(A.dir);
  const rowsB = readPerQueryRows(B.dir);
  const pairings = rowsA.length || rowsB.length ? diffPairings(rowsA, rowsB, Object.keys(metrics)) : {};
  const queries: RunDiff['queries'] = {};
  for (const [model, { metrics: paired, ...pairing }] of Object.entries(pairings)) {
    queries[model] = pairing;
    const cis = intervalsOf(paired);
    for (const [k, v] of Object.entries(metrics[model]!)) if (v.delta !== null && cis[k]) v.ci = cis[k];
  }
  return { config, metrics, queries };
}

export async function diffCommand(args: DiffArgs, io: { out: (s: string) => void }): Promise<number> {
  const A = readRunOrSweep(args.a);
  const B = readRunOrSweep(args.b);
  if (A.kind !== B.kind) {
    throw new UserError('E_RUN', `cannot compare a ${A.kind} directory (${args.a}) with a ${B.kind} directory (${args.b}); give two runs (or trials) or two sweeps`);
  }
  const text = A.kind === 'run' ? await renderRunDiff(args, A, B as RunDirInfo) : await renderSweepDiff(args, A, B as SweepDirInfo);
  io.out(text.endsWith('\n') ? text : text + '\n');
  return 0;
}

async function renderRunDiff(args: DiffArgs, A: RunDirInfo, B: RunDirInfo): Promise<string> {
  const d = diffRuns(A, B, args.all);
  if (args.format === 'json') return JSON.stringify(d, null, 2);
  // --all: every key in the config's order; otherwise the changed ones grouped per plugin, sorted, a plugin swap once
  const changes = args.all ? diffConfig(A.config, B.config, true) : groupedConfigChanges(A.config, B.config);
  if (args.format === 'html') {
    const { renderRunDiffHtml } = await import('../html/diff.js'); // the charting library loads only here
    return renderRunDiffHtml({ a: args.a, b: args.b }, A, B, changes, d.metrics, d.queries);
  }
  const f = args.format;
  const nChanged = changes.filter((c) => c.changed).length;
  const out: string[] = [];
  const status = (r: RunDirInfo) => r.metrics?.status ?? String(r.env.status ?? 'unknown');
  out.push(...head(f, [`A: ${args.a} (${status(A)})`, `B: ${args.b} (${status(B)})`]));
  const cfgTitle = nChanged === 0 ? 'config: identical' : `config: ${nChanged} changed key${nChanged === 1 ? '' : 's'}`;
  out.push('', f === 'md' ? `## ${cfgTitle}` : cfgTitle);
  if (changes.length) {
    const show = (v: unknown, absent: boolean) => (absent ? '(absent)' : formatValue(v));
    const rows = changes.map((c) => [...(args.all ? [c.changed ? '*' : ''] : []), c.path, show(c.a, c.absentA), show(c.b, c.absentB)]);
    const header = [...(args.all ? [''] : []), 'key', 'A', 'B'];
    out.push(...block(f, renderTable(header, rows, { format: f, indent: '  ' })));
  }
  const models = Object.keys(d.metrics);
  out.push('', f === 'md' ? '## metrics (B − A)' : 'metrics (B − A):');
  if (!models.length) out.push(...(f === 'md' ? ['', '(no model evaluated in both runs)'] : ['  (no model evaluated in both runs)']));
  else {
    const rows = models.flatMap((m) =>
      Object.entries(d.metrics[m]!).map(([k, v]) => [modelLabel(m), metricLabel(k), formatNumber(v.a), formatNumber(v.b), formatDeltaWithInterval(v.delta, v.ci)]),
    );
    // Δs with intervals line up on their first character (their widths differ: `n.s.`)
    const withIntervals = models.some((m) => Object.values(d.metrics[m]!).some((v) => v.ci));
    out.push(...block(f, renderTable(['model', 'metric', 'A', 'B', 'Δ'], rows, { format: f, indent: '  ', align: ['left', 'left', 'right', 'right', withIntervals ? 'left' : 'right'] })));
    out.push(...pairingLines(f, d));
  }
  const only = (x: RunDirInfo, y: RunDirInfo) => Object.keys(x.metrics?.models ?? {}).filter((m) => !(m in (y.metrics?.models ?? {})));
  const text = (s: string) => (f === 'md' ? mdText(s) : s);
  const onlyLines = [...only(A, B).map((m) => `(${modelLabel(m)} only in A)`), ...only(B, A).map((m) => `(${modelLabel(m)} only in B)`)].map(text);
  // Markdown: after a blank line, or the line would continue the table (or the list under it)
  if (onlyLines.length) out.push(...(f === 'md' ? ['', ...onlyLines] : onlyLines));
  return out.join('\n');
}

/**
 * Under the metrics table: what the intervals are, and for each model whose queries did not all
 * pair (or that has no interval) what was compared.
 */
export function pairingLines(f: 'text' | 'md', d: Pick<RunDiff, 'queries'>): string[] {
  const lines: string[] = [];
  const counts = [...new Set(Object.values(d.queries).filter((q) => q.paired > 0).map((q) => q.paired))];
  if (counts.length) lines.push(intervalNote(counts.length === 1 ? counts[0] : undefined).replace(/^Δ /, 'Δ (B − A) '));
  for (const [model, q] of Object.entries(d.queries)) {
    if (q.missing) lines.push(`${modelLabel(model)}: no interval (${q.missing})`);
    else if (q.only_a || q.only_b) {
      lines.push(`${modelLabel(model)}: the interval is over the ${q.paired} queries both runs evaluated (${q.only_a} only in A, ${q.only_b} only in B); Δ is of each run's own average`);
    }
  }
  return f === 'md' ? (lines.length ? ['', ...lines.map((l) => `- ${mdText(l)}`)] : []) : lines.map((l) => `  ${l}`);
}

/** The heading lines (names, statuses, overrides: escaped in Markdown, where HTML shows as text). */
function head(f: 'text' | 'md', lines: string[]): string[] {
  return f === 'md' ? lines.map((l) => `- ${mdText(l)}`) : lines;
}

/** Markdown tables need a blank line before them. */
function block(f: 'text' | 'md', table: string): string[] {
  return f === 'md' ? ['', table] : [table];
}

function overridesKey(o: Record<string, unknown>): string {
  return JSON.stringify(Object.keys(o).sort().map((k) => [k, o[k]]));
}

async function renderSweepDiff(args: DiffArgs, A: SweepDirInfo, B: SweepDirInfo): Promise<string> {
  const primary = A.primary;
  const ra = rankTrials(A.trials, primary);
  const rb = rankTrials(B.trials, primary);
  const best = (r: LeaderboardEntry[]) => r.find((e) => e.rank === 1) ?? null;
  const ba = best(ra);
  const bb = best(rb);
  const bestDelta = ba && bb ? sub(bb.value!, ba.value!) : null;
  // B − A of two trials' primary metric with its interval, paired per query (same ranking model)
  const ciOf = (a?: LeaderboardEntry | null, b?: LeaderboardEntry | null) => {
    if (!a?.model || !b || a.model !== b.model) return {};
    const p = pairRuns(readPerQueryRows(a.run_dir), readPerQueryRows(b.run_dir), a.model).metrics[primary];
    return p ? { ci: intervalsOf({ [primary]: p })[primary]! } : {};
  };
  const bestCi = ciOf(ba, bb);
  const byKey = new Map<string, { overrides: Record<string, unknown>; a?: LeaderboardEntry; b?: LeaderboardEntry }>();
  for (const [side, list] of [['a', ra], ['b', rb]] as const) {
    for (const e of [...list].sort((x, y) => x.index - y.index)) {
      const k = overridesKey(e.overrides);
      const row = byKey.get(k) ?? { overrides: e.overrides };
      row[side] ??= e;
      byKey.set(k, row);
    }
  }
  const side = (e?: LeaderboardEntry) => (e ? { index: e.index, status: e.status, value: e.value } : null);
  const trials = [...byKey.values()].map((r) => ({
    overrides: r.overrides,
    a: side(r.a),
    b: side(r.b),
    delta: r.a?.rank && r.b?.rank ? sub(r.b.value!, r.a.value!) : null,
    ...(r.a?.rank && r.b?.rank ? ciOf(r.a, r.b) : {}),
  }));
  const bestOf = (e: LeaderboardEntry | null) => (e ? { index: e.index, overrides: e.overrides, model: e.model, value: e.value } : null);
  if (args.format === 'json') {
    return JSON.stringify({ primary, best: { a: bestOf(ba), b: bestOf(bb), delta: bestDelta, ...bestCi }, trials }, null, 2);
  }
  if (args.format === 'html') {
    const { renderSweepDiffHtml } = await import('../html/diff.js');
    return renderSweepDiffHtml({ names: { a: args.a, b: args.b }, primary, best: { a: bestOf(ba), b: bestOf(bb), delta: bestDelta, ...bestCi }, trials });
  }
  const f = args.format;
  const out: string[] = [];
  const n = (s: SweepDirInfo) => `${s.trials.length} trial${s.trials.length === 1 ? '' : 's'}`;
  const bestLine = (e: LeaderboardEntry | null) => (e ? `trial ${e.index}, ${formatNumber(e.value)} (${formatOverrides(e.overrides)})` : 'no ranked trial');
  out.push(...head(f, [
    `A: ${args.a} (sweep, ${n(A)})`,
    `B: ${args.b} (sweep, ${n(B)})`,
    `primary: ${metricLabel(primary)}${B.primary !== primary ? ` (B ranks by ${metricLabel(B.primary)}; compared on A's)` : ''}`,
    `best A: ${bestLine(ba)}`,
    `best B: ${bestLine(bb)}`,
    `best Δ (B − A): ${formatDeltaWithInterval(bestDelta, bestCi.ci)}`,
  ]));
  out.push('', f === 'md' ? `## trials by overrides (${mdText(metricLabel(primary))})` : `trials by overrides (${metricLabel(primary)}):`);
  const cell = (s: { status: string; value: number | null } | null) => (!s ? '—' : s.status === 'ok' && s.value !== null ? formatNumber(s.value) : s.status);
  const rows = trials.map((t) => [formatOverrides(t.overrides), t.a ? String(t.a.index) : '—', cell(t.a), t.b ? String(t.b.index) : '—', cell(t.b), formatDeltaWithInterval(t.delta, t.ci)]);
  const header = ['overrides', 'A trial', 'A', 'B trial', 'B', 'Δ'];
  const withIntervals = trials.some((t) => t.ci) || bestCi.ci !== undefined;
  out.push(...block(f, renderTable(header, rows, { format: f, indent: '  ', align: ['left', 'right', 'right', 'right', 'right', withIntervals ? 'left' : 'right'] })));
  if (withIntervals) out.push(...(f === 'md' ? ['', mdText(intervalNote())] : [`  ${intervalNote()}`]));
  return out.join('\n');
}
