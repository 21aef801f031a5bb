/**
 * `ftrun compare --html`: the runs side by side as one self-contained page — the runs, every metric
 * per run (the best of each row in bold), each run's Δ vs the first with its paired interval, the config keys that differ (grouped per plugin), the
 * training curves of every run overlaid (train loss; test-split primary metric), and the
 * per-category recall of every run.
 */
import type { Comparison } from '../commands/compare.js';
import { categoryGrid, configGrid, deltaGrid, metricsGrid, metricsNote, trainingGrid } from '../commands/compare.js';
import { formatNumber, metricLabel, modelLabel } from '../report.js';
import { barChart, FULL_WIDTH, lineChart } from './charts.js';
import { escapeHtml, htmlTable, page } from './page.js';

/** Charts span the page. */
const WIDTH = FULL_WIDTH;

export function renderCompareHtml(c: Comparison): string {
  const parts = ['<h1>ftrun compare</h1>'];
  parts.push(
    htmlTable(
      ['run', 'directory', 'experiment', 'status', 'model', 'tags', 'note'],
      c.runs.map((r) => [
        `<b>${escapeHtml(r.label)}</b>`,
        `<code>${escapeHtml(r.dir)}</code>`,
        escapeHtml(r.name),
        escapeHtml(r.status),
        r.model ? escapeHtml(modelLabel(r.model)) : '—',
        escapeHtml(r.tags.join(', ')),
        escapeHtml(r.note ?? ''),
      ]),
    ),
  );
  for (const n of c.notes) parts.push(`<p class="muted">${escapeHtml(n)}</p>`);

  parts.push(`<h2>Metrics${escapeHtml(metricsNote(c))}</h2>`);
  const m = metricsGrid(c, (x) => formatNumber(x));
  if (!m.keys.length) parts.push('<p class="muted">No run has metrics.</p>');
  else {
    // The best value of each row (over the runs' columns) in bold.
    const first = 1 + (c.shared_base ? 1 : 0);
    const rows = m.rows.map((row) => {
      const nums = row.slice(first).map((v) => (v === '—' ? -Infinity : Number(v)));
      const best = Math.max(...nums);
      return row.map((v, i) => (i >= first && nums[i - first] === best && best !== -Infinity && nums.filter((x) => x === best).length < nums.length ? `<b>${escapeHtml(v)}</b>` : escapeHtml(v)));
    });
    parts.push(htmlTable(m.header, rows, (i) => i > 0));
  }

  const d = deltaGrid(c);
  if (d) {
    parts.push(`<h2>Δ vs ${escapeHtml(c.runs[0]!.label)}, paired per query</h2>`);
    // a Δ whose interval contains 0 (n.s.) in grey
    parts.push(htmlTable(d.header, d.rows.map((r) => r.map((v, i) => (i > 0 && v.endsWith(' n.s.') ? `<span class="muted">${escapeHtml(v)}</span>` : escapeHtml(v)))), (i) => i > 0));
    parts.push(`<p class="muted">${escapeHtml(d.note)}</p>`);
  }

  parts.push(`<h2>Config: ${c.config.length === 0 ? 'identical' : `${c.config.length} differing key${c.config.length === 1 ? '' : 's'}`}</h2>`);
  if (c.config.length) {
    const g = configGrid(c);
    parts.push('<p class="muted">Grouped per plugin; a plugin swap is one row, its type (or training.method): the options that come and go with it are left out, those that differ between runs of the same kind are listed.</p>');
    parts.push(htmlTable(g.header, g.rows.map((r) => r.map(escapeHtml))));
  }

  const t = trainingGrid(c);
  if (t) {
    parts.push('<h2>Training</h2>', htmlTable(t.header, t.rows.map((r) => r.map(escapeHtml)), (i) => i > 0));
    const trained = c.runs.filter((r) => r.curves.train_loss.length);
    parts.push(lineChart('Training loss', 'step', trained.map((r) => ({ name: r.label, points: r.curves.train_loss })), { yName: 'loss', width: WIDTH, height: 320 }));
    const tested = c.runs.filter((r) => r.curves.test.points.length);
    if (tested.length) {
      parts.push(lineChart(`Test split ${metricLabel(c.primary)} during training`, 'step', tested.map((r) => ({ name: r.label, points: r.curves.test.points })), { yName: metricLabel(c.primary), width: WIDTH, height: 320 }));
    }
  }

  const cat = categoryGrid(c, (x) => formatNumber(x));
  if (cat) {
    const metric = metricLabel(c.categories.metric!);
    const labels = c.categories.labels;
    const base = cat.header[1] === 'base' ? c.runs.map((r) => r.base_categories).find((b) => Object.keys(b).length) : undefined;
    // a run without per-query results (one that failed early) has no bars; the table says —
    const withRows = c.runs.filter((r) => Object.keys(r.categories).length);
    const series = [...(base ? [{ name: 'base', values: labels.map((l) => base[l] ?? 0) }] : []), ...withRows.map((r) => ({ name: r.label, values: labels.map((l) => r.categories[l] ?? 0) }))];
    parts.push(`<h2>${escapeHtml(metric)} per expected category</h2>`, barChart(`${metric} per expected category`, labels, series, { width: WIDTH }));
    parts.push(htmlTable(cat.header, cat.rows.map((r) => r.map(escapeHtml)), (i) => i > 0));
  }
  return page('ftrun compare', parts.join('\n'));
}
