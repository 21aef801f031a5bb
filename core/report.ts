/**
 * Rendering shared by the sinks, `ftrun diff`, `ftrun ls` and sweep leaderboards: number
 * formatting, plain-text / Markdown tables, the base / fine-tuned / Δ table and the Markdown
 * run report. Pure functions: no I/O here.
 */
import type { ModelMetrics, RunDeltas } from './run/records.js';
import type { QueryResult, RunSummary } from './types.js';
import type { RunOutcome } from './run-outcome.js';
import { formatDeltaWithInterval, intervalNote, type DeltaInterval } from './stats.js';

export type TableFormat = 'text' | 'md';
export type Align = 'left' | 'right';

const METRIC_LABELS: Record<string, string> = {
  mrr: 'MRR', recall: 'Recall', ndcg: 'NDCG', map: 'MAP', precision: 'Precision', hit: 'Hit', accuracy: 'Accuracy',
};

/** `mrr@1` → `MRR@1`, `recall@5` → `Recall@5`; unknown keys are returned unchanged. */
export function metricLabel(key: string): string {
  const at = key.indexOf('@');
  const name = at < 0 ? key : key.slice(0, at);
  const label = METRIC_LABELS[name];
  return label ? label + (at < 0 ? '' : key.slice(at)) : key;
}

/** `finetuned` → `fine-tuned`, also as the model of a diff row (`finetuned [general]`, `finetuned @64`); other model names unchanged. */
export function modelLabel(model: string): string {
  return model.replace(/^finetuned(?= |$)/, 'fine-tuned');
}

/** base, finetuned, merged (training.merge), then any other model in alphabetical order. */
export function orderModels(models: Iterable<string>): string[] {
  const rank = (m: string) => (m === 'base' ? 0 : m === 'finetuned' ? 1 : m === 'merged' ? 2 : 3);
  return [...new Set(models)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** Metric keys in the order of the first model's summary, then keys only other models have. */
export function metricKeys(models: ModelMetrics): string[] {
  const keys: string[] = [];
  for (const m of orderModels(Object.keys(models))) for (const k of Object.keys(models[m] ?? {})) if (!keys.includes(k)) keys.push(k);
  return keys;
}

export function formatNumber(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  return x.toFixed(digits);
}

/** Always signed: `+0.200`, `-0.050`, `+0.000` (a negative zero after rounding shows as +). */
export function formatSigned(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  const s = Math.abs(x).toFixed(digits);
  return (x < 0 && Number(s) !== 0 ? '-' : '+') + s;
}

/** A config or override value for display: strings bare (the empty one as ""), everything else as JSON. */
export function formatValue(v: unknown): string {
  if (v === undefined) return '(absent)';
  if (typeof v === 'string') return v === '' ? '""' : v;
  return JSON.stringify(v);
}

/** `{a.b: 1, c: "x"}` → `a.b=1 c=x`. */
export function formatOverrides(o: Record<string, unknown>): string {
  const parts = Object.entries(o).map(([k, v]) => `${k}=${formatValue(v)}`);
  return parts.length ? parts.join(' ') : '(none)';
}

/** `2025-01-02T03:04:05.678Z` → `2025-01-02 03:04:05 UTC`. */
export function formatDate(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
}

/**
 * Text for Markdown: `&`, `<` and `>` as entities, so that a label, query or config value that
 * holds HTML shows as text and a Markdown preview renders no element of it (the HTML outputs
 * escape the same way).
 */
export function mdText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A value as a Markdown code span: fenced by more backticks than it holds, on one line (code spans show `<` and `&` as they are). */
export function mdCode(s: string): string {
  const flat = s.replace(/\s*\n\s*/g, ' ');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = longest > 0 || flat.startsWith(' ') || flat.endsWith(' ') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** Text as a fenced Markdown code block (fenced by more backticks than it holds), shown as it is. */
export function mdFence(s: string): string {
  const longest = Math.max(2, ...(s.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}\n${s.replace(/\n+$/, '')}\n${fence}`;
}

/** Markdown that goes into a table cell: on one line, `|` escaped (also inside a code span, as GitHub tables need). */
function mdCellMarkup(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

/** Text for a Markdown table cell (mdText, on one line, `|` escaped). */
export function mdCell(s: string): string {
  return mdCellMarkup(mdText(s));
}

/**
 * A GitHub-flavoured Markdown table whose cells are Markdown already (each escaped by its
 * maker with mdText / mdCode); renderTable's `md` format escapes plain-text cells and uses it.
 */
export function renderMarkdownTable(header: string[], rows: string[][], align: Align[] = []): string {
  const line = (cells: string[]) => `| ${cells.map(mdCellMarkup).join(' | ')} |`;
  const rule = `|${header.map((_, i) => (align[i] === 'right' ? ' ---: ' : ' --- ')).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/**
 * A table. text: columns separated by two spaces, padded (right-aligned where asked), trailing
 * spaces trimmed, each line prefixed by `indent`. md: a GitHub-flavoured Markdown table of the
 * cells as text (mdCell: HTML shows as text).
 * The result ends without a newline.
 */
export function renderTable(header: string[], rows: string[][], opts: { format: TableFormat; align?: Align[]; indent?: string }): string {
  const align = header.map((_, i) => opts.align?.[i] ?? 'left');
  if (opts.format === 'md') return renderMarkdownTable(header.map(mdText), rows.map((r) => r.map(mdText)), align);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    (opts.indent ?? '') +
    header
      .map((_, i) => {
        const c = cells[i] ?? '';
        return align[i] === 'right' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/**
 * The results table: one row per metric, one column per model present (base, fine-tuned, merged…),
 * a Δ column (fine-tuned − base, signed) when both base and fine-tuned are present, and a
 * `Δ merged` column (merged − base) when base and merged (training.merge) are.
 */
export function renderMetricsTable(
  m: { models: ModelMetrics; delta?: Record<string, number>; delta_merged?: Record<string, number>; delta_ci?: Record<string, DeltaInterval>; delta_merged_ci?: Record<string, DeltaInterval> },
  opts: { format: TableFormat; digits?: number; indent?: string },
): string {
  const digits = opts.digits ?? 3;
  const models = orderModels(Object.keys(m.models));
  const withDelta = models.includes('base') && models.includes('finetuned');
  const withMerged = models.includes('base') && models.includes('merged');
  const header = ['metric', ...models.map(modelLabel), ...(withDelta ? ['Δ'] : []), ...(withMerged ? ['Δ merged'] : [])];
  // each Δ with its interval and p-value (core/stats.ts) when the run recorded them
  const diff = (given: Record<string, number> | undefined, ci: Record<string, DeltaInterval> | undefined, model: string, k: string) => {
    const b = m.models.base?.[k];
    const f = m.models[model]?.[k];
    return formatDeltaWithInterval(given?.[k] ?? (b !== undefined && f !== undefined ? f - b : undefined), ci?.[k], digits);
  };
  const rows = metricKeys(m.models).map((k) => {
    const row = [metricLabel(k), ...models.map((mod) => formatNumber(m.models[mod]?.[k], digits))];
    if (withDelta) row.push(diff(m.delta, m.delta_ci, 'finetuned', k));
    if (withMerged) row.push(diff(m.delta_merged, m.delta_merged_ci, 'merged', k));
    return row;
  });
  // in text, Δs with intervals line up on their first character (their widths differ: `n.s.`)
  const withIntervals = opts.format === 'text' && (m.delta_ci !== undefined || m.delta_merged_ci !== undefined);
  const deltaFrom = 1 + models.length;
  return renderTable(header, rows, { format: opts.format, indent: opts.indent, align: header.map((_, i) => (i === 0 || (withIntervals && i >= deltaFrom) ? 'left' : 'right')) });
}

/** `evaluate.dims` results: model → dimension → metrics (metrics.json `dims`). */
export type DimMetrics = Record<string, Record<string, Record<string, number>>>;

/** The dimensions of `evaluate.dims` results, largest first. */
export function dimsOf(dims: DimMetrics): number[] {
  return [...new Set(Object.values(dims).flatMap((byDim) => Object.keys(byDim).map(Number)))].sort((a, b) => b - a);
}

/**
 * The Matryoshka table (`evaluate.dims`): one row per metric, one column per model and truncated
 * dimension (`Base @64`), largest dimension first within each model.
 */
export function renderDimsTable(dims: DimMetrics, opts: { format: TableFormat; digits?: number; indent?: string }): string {
  const { header, rows } = dimsTableRows(dims, opts.digits ?? 3);
  return renderTable(header, rows, { format: opts.format, indent: opts.indent, align: header.map((_, i) => (i === 0 ? 'left' : 'right')) });
}

/** The header and rows of {@link renderDimsTable}, for other renderers (HTML). */
export function dimsTableRows(dims: DimMetrics, digits: number): { header: string[]; rows: string[][] } {
  const models = orderModels(Object.keys(dims));
  const ds = dimsOf(dims);
  const columns = models.flatMap((m) => ds.filter((d) => dims[m]?.[String(d)]).map((d) => ({ m, d })));
  const header = ['metric', ...columns.map(({ m, d }) => `${modelLabel(m)} @${d}`)];
  const keys = metricKeys(Object.fromEntries(columns.map(({ m, d }) => [`${m}@${d}`, dims[m]![String(d)]!])));
  const rows = keys.map((k) => [metricLabel(k), ...columns.map(({ m, d }) => formatNumber(dims[m]?.[String(d)]?.[k], digits))]);
  return { header, rows };
}

/** The primary metric, naming its set when there are several (`evaluate.sets`): `MRR@1 on transactions`. */
export function primaryLabel(primary: string, primarySet?: string): string {
  return `${metricLabel(primary)}${primarySet !== undefined ? ` on ${primarySet}` : ''}`;
}

/**
 * The results of a run with evaluation sets (`evaluate.sets`), one block per set: the primary set
 * (`models`, `delta`, `delta_merged`) first, then each other set, with its Δ (fine-tuned − base) and
 * Δ merged (merged − base) when those models were evaluated.
 */
export function evalSetBlocks(r: RunDeltas & {
  models: ModelMetrics;
  primarySet?: string;
  sets?: Record<string, ModelMetrics>;
}): Array<{ title: string; models: ModelMetrics; delta: Record<string, number>; delta_merged?: Record<string, number>; delta_ci?: Record<string, DeltaInterval>; delta_merged_ci?: Record<string, DeltaInterval> }> {
  const deltaOf = (models: ModelMetrics, model: string) => {
    const base = models.base;
    const other = models[model];
    return base && other ? Object.fromEntries(Object.keys(base).filter((k) => k in other).map((k) => [k, other[k]! - base[k]!])) : {};
  };
  const cis = (tuned?: Record<string, DeltaInterval>, merged?: Record<string, DeltaInterval>) => ({ ...(tuned ? { delta_ci: tuned } : {}), ...(merged ? { delta_merged_ci: merged } : {}) });
  return [
    { title: `${r.primarySet ?? 'eval'} (primary)`, models: r.models, delta: r.delta ?? {}, ...(r.delta_merged ? { delta_merged: r.delta_merged } : {}), ...cis(r.delta_ci, r.delta_merged_ci) },
    ...Object.entries(r.sets ?? {}).map(([set, models]) => ({ title: set, models, delta: deltaOf(models, 'finetuned'), ...(models.merged ? { delta_merged: deltaOf(models, 'merged') } : {}), ...cis(r.sets_delta_ci?.[set]?.finetuned, r.sets_delta_ci?.[set]?.merged) })),
  ];
}

/** The model whose metrics rank a run: `finetuned` when present, else `base`, else the first. */
export function rankingModel(models: ModelMetrics): string | undefined {
  if (models.finetuned) return 'finetuned';
  if (models.base) return 'base';
  return orderModels(Object.keys(models))[0];
}

const SECRET = /key|token|secret|password|passwd|credential/i;

/** `jsonl (queries: data/q.jsonl, corpus.path: c.json)`: a stage's type and its options, flattened. */
export function summarizeStage(cfg: unknown): string {
  if (!cfg || typeof cfg !== 'object') return formatValue(cfg);
  const { type, ...rest } = cfg as Record<string, unknown>;
  const opts: string[] = [];
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      if (v === undefined || v === '') continue;
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, `${prefix}${k}.`);
      else opts.push(`${prefix}${k}: ${SECRET.test(k) ? '***' : formatValue(v)}`);
    }
  };
  walk(rest, '');
  const head = type === undefined ? '' : String(type);
  return opts.length ? `${head}${head ? ' ' : ''}(${opts.join(', ')})` : head || '(default)';
}

/** Rows `[section, summary]` for dataset, model, backend, training and store. */
export function configSummary(config: Record<string, unknown>): string[][] {
  const model = (config.model ?? {}) as Record<string, unknown>;
  const { id, path, ...modelRest } = model;
  const modelText = summarizeStage({ type: id ?? path, ...modelRest });
  const training = (config.training ?? {}) as Record<string, unknown>;
  const { method, ...trainRest } = training;
  return [
    ['dataset', summarizeStage(config.dataset)],
    ['model', modelText],
    ['backend', summarizeStage(config.backend)],
    ['training', summarizeStage({ type: method, ...trainRest })],
    ...(config.loss ? [['loss', summarizeStage(config.loss)]] : []),
    ['store', summarizeStage(config.store)],
  ];
}

/**
 * The `n` worst queries by the primary metric (ascending), ties broken by the mean of all the
 * query's metrics, then by input order. Only queries below the metric's best (1): one the model
 * got right is not among the worst, however few the others are.
 */
export function worstQueries(perQuery: QueryResult[], primary: string, n = 10): QueryResult[] {
  const mean = (q: QueryResult) => {
    const v = Object.values(q.metrics);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0;
  };
  return perQuery
    .map((q, i) => ({ q, i, p: q.metrics[primary] ?? 0, m: mean(q) }))
    .filter((x) => x.p < 1)
    .sort((a, b) => a.p - b.p || a.m - b.m || a.i - b.i)
    .slice(0, n)
    .map((x) => x.q);
}

function oneLine(text: string, max = 100): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

/** What a report shows; the Δs and their intervals (`delta`, `delta_merged` = merged − base, `delta_ci` …) as metrics.json holds them. */
export interface ReportInput extends RunDeltas {
  name: string;
  date: Date;
  status: string;
  runDir?: string;
  primary: string;
  config?: Record<string, unknown>;
  models: ModelMetrics;
  ci?: { queries: number };
  timings: Record<string, number>;
  training?: RunSummary['training'];
  /** `evaluate.dims` results. */
  dims?: DimMetrics;
  /** `evaluate.sets`: the primary set's name, and the metrics of each other set by model. */
  primarySet?: string;
  sets?: Record<string, ModelMetrics>;
  /** Per-query results of the last evaluated model. */
  queries?: { model: string; results: QueryResult[] };
  /** How the run ended (env.json), for a run that did not finish: the stage it was in and why. */
  outcome?: RunOutcome;
  digits?: number;
}

/** The Markdown run report (report.md). Every value from the config, the data or the run is escaped (mdText, mdCode): HTML in it shows as text. */
export function renderReport(r: ReportInput): string {
  const digits = r.digits ?? 3;
  const out: string[] = [`# ${mdText(r.name)}`, ''];
  out.push(`- date: ${formatDate(r.date)}`, `- status: ${mdText(r.status)}`, `- primary metric: ${mdText(primaryLabel(r.primary, r.sets ? r.primarySet : undefined))}`);
  if (r.runDir) out.push(`- run directory: ${mdCode(r.runDir)}`);
  if (r.outcome && r.outcome.status !== 'ok') {
    if (r.outcome.stage !== undefined) out.push(`- ended in stage: ${mdCode(r.outcome.stage)}`);
    else if (r.outcome.after_stage !== undefined) out.push(`- ended after stage: ${mdCode(r.outcome.after_stage)}`);
    if (r.outcome.message) out.push('', `## ${r.outcome.status === 'failed' ? 'Error' : 'Why it stopped'}`, '', mdFence(r.outcome.message));
  }
  out.push('', '## Configuration', '');
  out.push(r.config ? renderTable(['stage', 'setting'], configSummary(r.config), { format: 'md' }) : '(not recorded)');
  out.push('', '## Results', '');
  if (r.sets && Object.keys(r.sets).length) {
    out.push('Each evaluation set (`evaluate.sets`) with its own corpus; the primary set is the dataset\'s eval queries.');
    for (const b of evalSetBlocks(r)) out.push('', `### ${mdText(b.title)}`, '', Object.keys(b.models).length ? renderMetricsTable(b, { format: 'md', digits }) : '(no model was evaluated)');
  } else out.push(Object.keys(r.models).length ? renderMetricsTable(r, { format: 'md', digits }) : '(no model was evaluated)');
  if (r.delta_ci || r.delta_merged_ci || r.sets_delta_ci) out.push('', mdText(intervalNote(r.ci?.queries)));
  if (r.dims && Object.keys(r.dims).length) {
    out.push('', '## Truncated dimensions', '', 'Each embedding cut to its first d values and re-normalized (`evaluate.dims`).', '');
    out.push(renderDimsTable(r.dims, { format: 'md', digits }));
  }
  if (r.training) {
    const t = r.training;
    out.push('', '## Training', '');
    out.push(
      renderMarkdownTable(
        ['', ''],
        [
          ['steps', String(t.steps)],
          ['epochs', String(t.epochs)],
          ['time', `${t.seconds.toFixed(1)} s`],
          ['samples/s', t.samples_per_second.toFixed(2)],
          ...(t.best_step !== undefined ? [['best checkpoint', `step ${t.best_step}`]] : []),
          ['model', mdCode(t.model_dir)],
        ],
      ),
    );
  }
  const stages = Object.entries(r.timings);
  if (stages.length) {
    // no total: sub-timings (e.g. base_encode inside evaluate_base) overlap their stage
    const rows = stages.map(([k, s]) => [k, s.toFixed(2)]);
    out.push('', '## Timings', '', renderTable(['stage', 'seconds'], rows, { format: 'md', align: ['left', 'right'] }));
  }
  if (r.queries && r.queries.results.length) {
    const worst = worstQueries(r.queries.results, r.primary, 10);
    out.push('', `## Worst queries (${mdText(modelLabel(r.queries.model))})`, '');
    if (!worst.length) out.push(`Every query has ${mdText(metricLabel(r.primary))} ${formatNumber(1, digits)}.`);
  }
  if (r.queries && worstQueries(r.queries.results, r.primary, 10).length) {
    const worst = worstQueries(r.queries.results, r.primary, 10);
    const rows = worst.map((q, i) => {
      const top = q.top
        .slice(0, 3)
        .map((h) => (q.expected.includes(h.id) ? `**${mdText(h.id)}**` : mdText(h.id)) + ` (${h.score.toFixed(digits)})`)
        .join(', ');
      return [String(i + 1), mdText(oneLine(q.text)), mdText(q.expected.join(', ')), top, formatNumber(q.metrics[r.primary], digits)];
    });
    const what = worst.length === 1 ? 'The query' : `The ${worst.length} queries`;
    out.push(`${what} with the lowest ${mdText(metricLabel(r.primary))} (below ${formatNumber(1, digits)}); expected documents are in bold in the top 3.`, '');
    const header = ['#', 'query', 'expected', 'top 3', metricLabel(r.primary)].map(mdText);
    out.push(renderMarkdownTable(header, rows, ['right', 'left', 'left', 'left', 'right']));
  }
  return out.join('\n') + '\n';
}
