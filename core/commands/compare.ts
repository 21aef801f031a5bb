/**
 * `ftrun compare RUN… [--md | --json | --html]`: any number (at least two) of runs or sweep trials
 * side by side. A sweep directory stands for all its trials. Each RUN is a run directory, `latest`,
 * `latest~N` or a unique id prefix (core/run-names.ts).
 *
 * - Metrics: every metric of each run's ranking model (fine-tuned; base when the run did not train).
 *   The base model is shown once, as column `base`, when every run evaluated it with the same
 *   scores (the same base model on the same queries); otherwise each run's base is its own column
 *   `<run> base`.
 * - Δ vs the reference (the first run named): each other run's Δ per metric with its 95% paired
 *   bootstrap interval and randomization-test p-value over the queries both evaluated (core/stats.ts).
 * - Config: the keys that differ, grouped per plugin block and sorted (core/commands/diff.ts
 *   groupConfigDiff): a plugin swap is one row, the plugin's type.
 * - Training: per run, the train loss and the test-split primary metric by step (events.jsonl),
 *   overlaid in one chart each (--html); the text forms give the first and last loss and the best
 *   test-split value.
 * - Per category: the lowest-k recall per expected category of each run's ranking model on the
 *   primary evaluation set (as report.html computes it), with the shared base when there is one.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../errors.js';
import { readJsonl } from '../fsutil.js';
import { meanByLabel } from '../metrics.js';
import { formatNumber, formatValue, metricKeys, metricLabel, mdText, modelLabel, rankingModel, renderTable, type TableFormat } from '../report.js';
import { resolveRunRef } from '../run-names.js';
import { labelsOf } from '../run-labels.js';
import { dirKind, readRunDir, readRunOrSweep, type RunDirInfo } from '../run-reader.js';
import { EVENTS_JSONL, PER_QUERY_JSONL, type PerQuery } from '../run/records.js';
import { formatDeltaWithInterval, intervalNote, pairedDeltas, perQueryMetrics, type PairedDelta } from '../stats.js';
import type { RunEvent } from '../types.js';
import { groupConfigDiff, type ConfigDiffRow } from '../config-diff.js';

export interface CompareArgs {
  refs: string[];
  runsDir: string;
  format: 'text' | 'md' | 'json' | 'html';
}

export interface CompareRun {
  /** How the run is named in every table and chart: the name given (`latest`, an id prefix), or the directory's name; a sweep trial adds ` #<n>`. */
  label: string;
  dir: string;
  name: string;
  status: string;
  /** The model whose metrics stand for the run: fine-tuned, or base when it did not train. */
  model: string | null;
  metrics: Record<string, number>;
  /** The run's base metrics (when it evaluated base). */
  base: Record<string, number> | null;
  tags: string[];
  note: string | null;
  trial: { sweep: string; index: number } | null;
  curves: { train_loss: Array<[number, number]>; test: { metric: string; points: Array<[number, number]> } };
  /** The per-category metric (`categories.metric`) of the run's model, by expected category. */
  categories: Record<string, number>;
  /** The shared base's per-category values (the same in every run when the base is shared). */
  base_categories: Record<string, number>;
  /**
   * This run − the reference (the first run named), per metric, paired over the queries both
   * evaluated: Δ, its 95% paired bootstrap interval and randomization-test p (core/stats.ts); null
   * for the reference itself and without per-query results on both sides.
   */
  vs_reference: { paired: number; metrics: Record<string, PairedDelta> } | null;
}

export interface Comparison {
  primary: string;
  runs: CompareRun[];
  /** The base metrics when every run has the same ones; null otherwise. */
  shared_base: Record<string, number> | null;
  config: ConfigDiffRow[];
  categories: { metric: string | null; labels: string[] };
  /** Things left out (a sweep trial without a run directory). */
  notes: string[];
  configs: Array<Record<string, unknown>>;
}

/** The last value per step (a resumed run repeats the steps after its checkpoint), by step. */
function byStep(points: Array<[number, number]>): Array<[number, number]> {
  const m = new Map<number, number>();
  for (const [s, v] of points) m.set(s, v);
  return [...m].sort((a, b) => a[0] - b[0]);
}

function compareRun(info: RunDirInfo, label: string, trial: CompareRun['trial']): CompareRun {
  const m = info.metrics;
  const model = m ? rankingModel(m.models) ?? null : null;
  const primary = m?.primary ?? 'mrr@1';
  const events = existsSync(join(info.dir, EVENTS_JSONL)) ? readJsonl<RunEvent>(join(info.dir, EVENTS_JSONL)) : [];
  const train_loss = byStep(events.flatMap((e) => (e.type === 'train_step' && Number.isFinite(e.loss) ? [[e.step, e.loss] as [number, number]] : [])));
  const test = byStep(events.flatMap((e) => (e.type === 'train_eval' && e.metrics[primary] !== undefined ? [[e.step, e.metrics[primary]!] as [number, number]] : [])));
  const config = info.config as { name?: unknown };
  return {
    label,
    dir: info.dir,
    name: typeof config.name === 'string' ? config.name : basename(join(info.dir, '..')),
    status: m?.status ?? (typeof info.env.status === 'string' ? info.env.status : 'unknown'),
    model,
    metrics: (model && m?.models[model]) || {},
    base: m?.models.base ?? null,
    tags: labelsOf(info.env).tags,
    note: labelsOf(info.env).note ?? null,
    trial,
    curves: { train_loss, test: { metric: primary, points: test } },
    categories: {},
    base_categories: {},
    vs_reference: null,
  };
}

/** The primary set's per-query rows of `model` in `dir`. */
function perQuery(dir: string, model: string | null): PerQuery[] {
  const file = join(dir, PER_QUERY_JSONL);
  if (!model || !existsSync(file)) return [];
  return readJsonl<PerQuery>(file).filter((q) => q.set === undefined && q.model === model);
}

/** Resolve and read the runs `refs` name (a sweep: its trials). */
export function readComparison(refs: string[], runsDir: string): Comparison {
  const runs: CompareRun[] = [];
  const configs: Array<Record<string, unknown>> = [];
  const notes: string[] = [];
  for (const ref of refs) {
    const dir = resolveRunRef(ref, runsDir);
    const given = ref.includes('/') ? basename(dir) : ref;
    // a run that is still running or was killed (env.json, no metrics.json yet) is compared too
    const d = dirKind(dir) === undefined && dirKind(dir, true) === 'run' ? readRunDir(dir) : readRunOrSweep(dir);
    if (d.kind === 'run') {
      runs.push(compareRun(d, given, null));
      configs.push(d.config);
      continue;
    }
    for (const t of d.trials) {
      if (dirKind(t.runDir, true) !== 'run') {
        notes.push(`${given} trial ${t.index} (${t.status}) has no run directory; left out`);
        continue;
      }
      const info = readRunDir(t.runDir);
      runs.push(compareRun(info, `${given} #${t.index}`, { sweep: d.dir, index: t.index }));
      configs.push(info.config);
    }
  }
  if (runs.length < 2) {
    throw new UserError('E_USAGE', `ftrun compare: expected at least two runs (or a sweep with two trials), got ${runs.length}${refs.length ? ` from ${refs.join(' ')}` : ''}. See: ftrun compare --help`);
  }
  // The same run named twice keeps its names apart.
  const seen = new Map<string, number>();
  for (const r of runs) {
    const n = (seen.get(r.label) ?? 0) + 1;
    seen.set(r.label, n);
    if (n > 1) r.label = `${r.label} (${n})`;
  }
  const primary = runs.find((r) => r.model)?.curves.test.metric ?? 'mrr@1';
  // one base for all when every run that evaluated base has the same scores (a failed run may have none)
  const bases = runs.filter((r) => r.base).map((r) => JSON.stringify(r.base));
  const shared_base = bases.length && bases.every((b) => b === bases[0]) ? runs.find((r) => r.base)!.base : null;
  // Per category: the lowest k of recall that every run's rows have.
  const rows = runs.map((r) => perQuery(r.dir, r.model));
  const recallKs = rows.filter((q) => q.length).map((q) => new Set(Object.keys(q[0]!.metrics).filter((k) => /^recall@[0-9]+$/.test(k))));
  const common = recallKs.length ? [...recallKs[0]!].filter((k) => recallKs.every((s) => s.has(k))) : [];
  const metric = common.sort((a, b) => Number(a.slice(7)) - Number(b.slice(7)))[0] ?? null;
  // Each run against the first, paired per query (the primary set's rows of each run's model).
  const scores = rows.map((q) => perQueryMetrics(q, q[0]?.model ?? ''));
  runs.forEach((r, i) => {
    if (i === 0 || !scores[0]!.size || !scores[i]!.size) return;
    const d = pairedDeltas(scores[0]!, scores[i]!);
    if (d.paired) r.vs_reference = { paired: d.paired, metrics: d.metrics };
  });
  const labels = new Set<string>();
  if (metric) {
    runs.forEach((r, i) => {
      r.categories = Object.fromEntries(meanByLabel(rows[i]!, metric));
      if (shared_base) r.base_categories = Object.fromEntries(meanByLabel(perQuery(r.dir, 'base'), metric));
      for (const l of Object.keys(r.categories)) labels.add(l);
    });
  }
  return { primary, runs, shared_base, config: groupConfigDiff(configs), categories: { metric, labels: [...labels].sort() }, notes, configs };
}

export async function compareCommand(args: CompareArgs, io: { out: (s: string) => void }): Promise<number> {
  const c = readComparison(args.refs, args.runsDir);
  let text: string;
  if (args.format === 'json') text = JSON.stringify(compareJson(c), null, 2);
  else if (args.format === 'html') {
    const { renderCompareHtml } = await import('../html/compare.js'); // the charting library loads only here
    text = renderCompareHtml(c);
  } else text = renderCompareText(c, args.format);
  io.out(text.endsWith('\n') ? text : text + '\n');
  return 0;
}

/** --json: the comparison with absent values as null. */
function compareJson(c: Comparison) {
  const { configs: _c, ...rest } = c;
  return { ...rest, config: c.config.map((r) => ({ ...r, values: r.values.map((v) => (v === undefined ? null : v)) })) };
}

/** The metrics table: header and rows (metric, then base once or per run, then each run's model). */
export function metricsGrid(c: Comparison, cell: (x: number | undefined) => string): { header: string[]; rows: string[][]; keys: string[] } {
  const perRunBase = !c.shared_base && c.runs.some((r) => r.base && r.model !== 'base');
  const all: Record<string, Record<string, number>> = {};
  c.runs.forEach((r, i) => {
    if (r.base) all[`base${i}`] = r.base;
    all[`run${i}`] = r.metrics;
  });
  const keys = metricKeys(all);
  const header = ['metric', ...(c.shared_base ? ['base'] : []), ...c.runs.flatMap((r) => [...(perRunBase && r.base && r.model !== 'base' ? [`${r.label} base`] : []), r.label])];
  const rows = keys.map((k) => [
    metricLabel(k),
    ...(c.shared_base ? [cell(c.shared_base[k])] : []),
    ...c.runs.flatMap((r) => [...(perRunBase && r.base && r.model !== 'base' ? [cell(r.base[k])] : []), cell(r.metrics[k])]),
  ]);
  return { header, rows, keys };
}

/** Each run − the reference (the first run) per metric with its interval; undefined when no run has per-query results to pair. */
export function deltaGrid(c: Comparison): { header: string[]; rows: string[][]; note: string } | undefined {
  const others = c.runs.slice(1).filter((r) => r.vs_reference);
  if (!others.length) return undefined;
  const keys = metricsGrid(c, () => '').keys.filter((k) => others.some((r) => r.vs_reference!.metrics[k]));
  if (!keys.length) return undefined;
  const rows = keys.map((k) => [metricLabel(k), ...others.map((r) => {
    const m = r.vs_reference!.metrics[k];
    return m ? formatDeltaWithInterval(m.delta, m) : '—';
  })]);
  const n = [...new Set(others.map((r) => r.vs_reference!.paired))];
  return { header: ['metric', ...others.map((r) => r.label)], rows, note: intervalNote(n.length === 1 ? n[0] : undefined) };
}

/** How the base column reads: one for all runs (or for all that evaluated it), or none. */
export function metricsNote(c: Comparison): string {
  if (!c.shared_base) return '';
  return c.runs.every((r) => r.base) ? ' (base shared by every run)' : ' (base shared by the runs that evaluated it)';
}

/** What each run's column shows (the model, when not fine-tuned). */
export function runLine(r: CompareRun): string {
  const model = r.model && r.model !== 'finetuned' ? `, ${modelLabel(r.model)}` : r.model ? '' : ', no metrics';
  const tags = r.tags.length ? `, tags ${r.tags.join(',')}` : '';
  const note = r.note ? `, note "${r.note}"` : '';
  return `${r.label}: ${r.dir} (${r.name}, ${r.status}${model}${tags}${note})`;
}

/** The config rows: group shown on its first row, a swap marked. */
export function configGrid(c: Comparison): { header: string[]; rows: string[][] } {
  let last = '';
  const rows = c.config.map((row) => {
    const group = row.group === last ? '' : row.group;
    last = row.group;
    return [group, row.swap ? `${row.path} (plugin swap)` : row.path, ...row.values.map(formatValue)];
  });
  return { header: ['group', 'key', ...c.runs.map((r) => r.label)], rows };
}

/** The training summary per run: steps, first and last train loss, best test-split value. */
export function trainingGrid(c: Comparison): { header: string[]; rows: string[][] } | undefined {
  if (!c.runs.some((r) => r.curves.train_loss.length)) return undefined;
  const rows = c.runs.map((r) => {
    const loss = r.curves.train_loss;
    const test = r.curves.test.points;
    const best = test.length ? test.reduce((a, b) => (b[1] > a[1] ? b : a)) : undefined;
    return [r.label, loss.length ? String(loss.at(-1)![0]) : '—', formatNumber(loss[0]?.[1], 4), formatNumber(loss.at(-1)?.[1], 4), best ? `${formatNumber(best[1])} (step ${best[0]})` : '—'];
  });
  return { header: ['run', 'steps', 'first loss', 'last loss', `best test ${metricLabel(c.primary)}`], rows };
}

/** Per-category rows: category, then the shared base, then each run. */
export function categoryGrid(c: Comparison, cell: (x: number | undefined) => string): { header: string[]; rows: string[][] } | undefined {
  if (!c.categories.metric || !c.categories.labels.length) return undefined;
  const base = c.shared_base ? c.runs.map((r) => r.base_categories).find((b) => Object.keys(b).length) : undefined;
  return {
    header: ['category', ...(base ? ['base'] : []), ...c.runs.map((r) => r.label)],
    rows: c.categories.labels.map((l) => [l, ...(base ? [cell(base[l])] : []), ...c.runs.map((r) => cell(r.categories[l]))]),
  };
}

function renderCompareText(c: Comparison, f: TableFormat): string {
  const out: string[] = [];
  const title = (s: string, colon = true) => out.push('', f === 'md' ? `## ${mdText(s)}` : `${s}${colon ? ':' : ''}`);
  const table = (header: string[], rows: string[][], numericFrom: number) =>
    out.push(...(f === 'md' ? [''] : []), renderTable(header, rows, { format: f, indent: f === 'md' ? '' : '  ', align: header.map((_, i) => (i >= numericFrom ? 'right' : 'left')) }));
  if (f === 'md') out.push('# ftrun compare', '');
  out.push(...c.runs.map((r) => (f === 'md' ? `- ${mdText(runLine(r))}` : runLine(r))));
  for (const n of c.notes) out.push(f === 'md' ? `- ${mdText(n)}` : n);
  const cell = (x: number | undefined) => formatNumber(x);
  const m = metricsGrid(c, cell);
  title(`metrics${metricsNote(c)}`);
  if (!m.keys.length) out.push(f === 'md' ? '(no run has metrics)' : '  (no run has metrics)');
  else table(m.header, m.rows, 1);
  const d = deltaGrid(c);
  if (d) {
    title(`Δ vs ${c.runs[0]!.label}, paired per query`);
    table(d.header, d.rows, 99);
    out.push('', f === 'md' ? mdText(d.note) : `  ${d.note}`);
  }
  title(c.config.length === 0 ? 'config: identical' : `config: ${c.config.length} differing key${c.config.length === 1 ? '' : 's'}`, c.config.length > 0);
  if (c.config.length) {
    const g = configGrid(c);
    table(g.header, g.rows, 99);
  }
  const t = trainingGrid(c);
  if (t) {
    title('training');
    table(t.header, t.rows, 1);
  }
  const cat = categoryGrid(c, cell);
  if (cat) {
    title(`${metricLabel(c.categories.metric!)} per expected category`);
    table(cat.header, cat.rows, 1);
  }
  return out.join('\n');
}
