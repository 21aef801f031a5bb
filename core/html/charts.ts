/**
 * Charts for the HTML reports, drawn by Apache ECharts' server-side renderer straight to SVG
 * strings (no DOM, no browser, no network): the report embeds them inline and opens anywhere.
 * ECharts was chosen over Vega-Lite (27 packages, a scenegraph and loader to render one SVG) and
 * Observable Plot (needs a server-side DOM): two small dependencies, a maintained SSR API
 * (`init(null, null, { ssr: true, renderer: 'svg' })` + `renderToSVGString()`), and the line, bar
 * and scatter charts these reports need.
 *
 * What every chart keeps to (the browser test checks it on the pages): every category label is
 * drawn (none skipped, long ones wrapped, never cut) and carries its full text as a tooltip
 * (`<title>`); legends sit above the plot, never on the data; an axis of values in [0, 1] (the
 * metrics) stops at 1 and at 0; points are inside the plot, not on its edges. The SVGs scale to
 * the page width (the page's CSS): FULL_WIDTH for a chart alone in its row, HALF_WIDTH for two.
 */
import * as echarts from 'echarts';

export interface Series {
  name: string;
  points: Array<[number, number]>;
}

/** The width a chart alone in its row is drawn at (the page's content is 1068 px wide). */
export const FULL_WIDTH = 1040;
/** The width of a chart two of which share a row. */
export const HALF_WIDTH = 520;

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948'];
const BASE = { animation: false, color: PALETTE, textStyle: { fontFamily: 'system-ui, sans-serif' } };
const TITLE_FONT = 14;
const FONT = 12;

/**
 * The width of `text` at FONT px as a browser may draw it: ECharts measures with Arial's widths
 * (about 0.55 em a character); DejaVu Sans, Linux's default sans-serif, is some 15% wider, and
 * CJK or emoji a whole em. Generous on purpose: a label must never be cut.
 */
export function textWidth(text: string, size = FONT): number {
  let em = 0;
  for (const ch of text) em += ch.charCodeAt(0) > 0x2e7f ? 1 : /[A-Z@%&MWmw]/.test(ch) ? 0.8 : /[ il.,:;'|!]/.test(ch) ? 0.33 : 0.62;
  return Math.ceil(em * size);
}

function render(option: Record<string, unknown>, width: number, height: number): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ ...BASE, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/**
 * The title, and under it the legend when there are several series: both above the plot, so the
 * legend never covers data. ECharts places legend items by its own (Arial) measure of their names,
 * narrower than the browser's fonts (DejaVu Sans is some 15% wider): the gap between items grows
 * with the longest name so that a drawn name never runs into the next item, and the plot starts
 * below every legend line.
 */
function heading(title: string, names: readonly string[], width: number): { option: Record<string, unknown>; top: number } {
  const option: Record<string, unknown> = { title: { text: title, left: 'center', top: 4, textStyle: { fontSize: TITLE_FONT } } };
  if (names.length < 2) return { option, top: 40 };
  const text = Math.max(...names.map((n) => textWidth(n)));
  const gap = 24 + Math.ceil(0.2 * text);
  const item = 25 + 5 + text + gap; // icon, its gap to the text, the text, the gap to the next item
  const perLine = Math.max(1, Math.floor((width - 80 + gap) / item));
  const lines = Math.ceil(names.length / perLine);
  option.legend = { top: 28, left: 'center', width: width - 80, itemGap: gap, textStyle: { fontSize: FONT } };
  return { option, top: Math.max(76, 28 + lines * 22 + 12) };
}

/** A round step near `x`: 1, 2 or 5 times a power of ten. */
function niceStep(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  const m = x / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/**
 * A value axis over `values`. Values all in [0, 1] (the metrics): round bounds a little beyond the
 * data, never below 0 nor above 1 (no 1.02 for a metric). Others: ECharts' own round bounds.
 */
function valueAxis(values: number[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  const axis = { type: 'value', axisLabel: { formatter: tickLabel }, ...extra };
  if (!values.length || !values.every((v) => v >= 0 && v <= 1)) return { ...axis, scale: true };
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const step = niceStep(Math.max(hi - lo, hi * 0.05, 1e-12) / 4); // a flat series gets a little room too
  const min = Math.max(0, Math.floor((lo - step / 4) / step) * step);
  const max = Math.min(1, Math.ceil((hi + step / 4) / step) * step);
  return { ...axis, min: Number(min.toFixed(10)), max: Number(max.toFixed(10)) };
}

/** Tick labels without floating-point tails (0.30000000000000004) and with exponents for small numbers (1e-5). */
export function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return Number(v.toPrecision(3)).toExponential();
  return String(Number(v.toPrecision(4)));
}

/** Lines over a numeric x axis (e.g. loss by step). `yName` names the y axis. */
export function lineChart(title: string, xName: string, series: Series[], opts: { yName?: string; width?: number; height?: number } = {}): string {
  const width = opts.width ?? HALF_WIDTH;
  const head = heading(title, series.map((x) => x.name), width);
  const ys = series.flatMap((s) => s.points.map(([, y]) => y));
  return render(
    {
      ...head.option,
      grid: { left: 72, right: 28, top: head.top, bottom: 48 },
      xAxis: { type: 'value', name: xName, nameLocation: 'middle', nameGap: 28, min: 'dataMin', max: 'dataMax' },
      yAxis: valueAxis(ys, opts.yName ? { name: opts.yName, nameLocation: 'middle', nameGap: 56 } : {}),
      series: series.map((s) => ({ type: 'line', name: s.name, data: s.points, showSymbol: s.points.length <= 30, symbolSize: 5 })),
    },
    width,
    opts.height ?? 300,
  );
}

/** Wrap `label` into lines of at most `width` px (by textWidth), breaking at spaces where it can and inside a word where it must. */
export function wrapLabel(label: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  const push = (word: string) => {
    const next = line ? `${line} ${word}` : word;
    if (textWidth(next) <= width) return void (line = next);
    if (line) lines.push(line);
    line = '';
    // a word longer than the line is cut into pieces that fit
    let rest = word;
    while (textWidth(rest) > width) {
      let n = rest.length - 1;
      while (n > 1 && textWidth(rest.slice(0, n)) > width) n--;
      lines.push(rest.slice(0, n));
      rest = rest.slice(n);
    }
    line = rest;
  };
  for (const word of label.split(/\s+/).filter(Boolean)) push(word);
  if (line || !lines.length) lines.push(line);
  return lines;
}

const LABEL_MAX = 300;
const LINE_HEIGHT = 15;

/**
 * Horizontal grouped bars: one row per category, one bar per series, values in [0, 1]. Every
 * category is labelled, in full: the label column is as wide as the longest label (at most
 * 300 px, then the label wraps) and each row is tall enough for its wrapped lines; each label's
 * full text is its tooltip.
 */
export function barChart(title: string, categories: string[], series: Array<{ name: string; values: number[] }>, opts: { width?: number } = {}): string {
  const width = opts.width ?? FULL_WIDTH;
  const labelWidth = Math.min(LABEL_MAX, Math.max(40, ...categories.map((c) => textWidth(c))));
  const wrapped = categories.map((c) => wrapLabel(c, labelWidth));
  const lines = Math.max(1, ...wrapped.map((w) => w.length));
  const row = Math.max(lines * LINE_HEIGHT + 8, 8 + 9 * series.length);
  const head = heading(title, series.map((x) => x.name), width);
  const bottom = 36;
  const height = head.top + bottom + categories.length * row;
  const svg = render(
    {
      ...head.option,
      grid: { left: labelWidth + 16, right: 28, top: head.top, bottom },
      xAxis: { type: 'value', min: 0, max: 1, axisLabel: { formatter: tickLabel } },
      // interval 0: every label, none skipped for lack of room; the lines are ours (wrapLabel), not ECharts' estimate
      yAxis: { type: 'category', data: categories.map((_, i) => String(i)), inverse: true, axisLabel: { interval: 0, lineHeight: LINE_HEIGHT, fontSize: FONT, formatter: (v: string) => wrapped[Number(v)]!.join('\n') } },
      series: series.map((s) => ({ type: 'bar', name: s.name, data: s.values, barMaxWidth: 18 })),
    },
    width,
    height,
  );
  return withLabelTitles(svg, wrapped, categories);
}

const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * Give each line of a category label (the `<text text-anchor="end">` elements of the category
 * axis, in order) its label's full text as a `<title>` (the browser's tooltip), and the label as
 * `data-label` for tools and tests.
 */
function withLabelTitles(svg: string, wrapped: string[][], categories: string[]): string {
  const lines = wrapped.flatMap((w, i) => w.map((l) => ({ line: escapeXml(l), label: categories[i]! })));
  let at = 0;
  return svg.replace(/<text([^>]*text-anchor="end"[^>]*)>([^<]*)<\/text>/g, (whole, attrs: string, content: string) => {
    const next = lines[at];
    if (!next || content.trim() !== next.line.trim()) return whole;
    at++;
    return `<text${attrs} data-label="${escapeXml(next.label)}">${content}<title>${escapeXml(next.label)}</title></text>`;
  });
}

/** A point of a scatter chart: x (number or category), y, and what the point is (shown beside it: `trial 3`). */
export type ScatterPoint = [number | string, number] | [number | string, number, string];

/**
 * Points of (x, y) per series, x categorical or numeric (e.g. a sweep's primary metric against a
 * parameter). A numeric x whose values span a factor of 10 or more (learning rates) is drawn on a
 * log axis; the axes are padded so no point sits on the plot's edge; a point's third element is
 * its label, drawn beside it.
 */
export function scatterChart(title: string, xName: string, yName: string, series: Array<{ name: string; points: ScatterPoint[] }>, opts: { width?: number; height?: number } = {}): string {
  const width = opts.width ?? HALF_WIDTH;
  const categorical = series.some((s) => s.points.some(([x]) => typeof x === 'string'));
  const xs = [...new Set(series.flatMap((s) => s.points.map(([x]) => String(x))))];
  const nums = categorical ? [] : series.flatMap((s) => s.points.map(([x]) => x as number));
  const head = heading(title, series.map((x) => x.name), width);
  const ys = series.flatMap((s) => s.points.map(([, y]) => y));
  let xAxis: Record<string, unknown>;
  const named = { name: xName, nameLocation: 'middle', nameGap: 30 };
  if (categorical) xAxis = { type: 'category', data: xs, ...named, axisLabel: { interval: 0 } };
  else if (isLogSpaced(nums)) {
    // whole decades with at least a quarter decade of room on each side of the points
    const lo = 10 ** Math.floor(Math.log10(Math.min(...nums)) - 0.25);
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...nums)) + 0.25);
    xAxis = { type: 'log', logBase: 10, min: lo, max: hi, ...named, axisLabel: { formatter: tickLabel } };
  } else {
    // round bounds with room beyond the first and last point
    const r = nums.length ? { lo: Math.min(...nums), hi: Math.max(...nums) } : { lo: 0, hi: 1 };
    const step = niceStep((r.hi - r.lo || Math.abs(r.hi) || 1) / 4);
    const min = Math.floor((r.lo - step / 4) / step) * step;
    const max = Math.ceil((r.hi + step / 4) / step) * step;
    xAxis = { type: 'value', min: Number(min.toFixed(10)), max: Number(max.toFixed(10)), ...named, axisLabel: { formatter: tickLabel } };
  }
  const labelled = series.some((s) => s.points.some((p) => p[2] !== undefined));
  return render(
    {
      ...head.option,
      grid: { left: 72, right: 40, top: head.top + (labelled ? 8 : 0), bottom: 52 },
      xAxis,
      yAxis: valueAxis(ys, { name: yName, nameLocation: 'middle', nameGap: 56 }),
      series: series.map((s) => ({
        type: 'scatter',
        name: s.name,
        symbolSize: 10,
        data: s.points.map(([x, y, label]) => ({ value: [categorical ? String(x) : x, y], ...(label !== undefined ? { name: label } : {}) })),
        label: { show: labelled, position: 'right', formatter: (p: { name?: string }) => p.name ?? '', fontSize: 11 },
        labelLayout: { moveOverlap: 'shiftY' },
      })),
    },
    width,
    opts.height ?? 320,
  );
}

/** Positive numbers spanning a factor of 10 or more (1e-5 … 1e-3): a log axis shows them evenly. */
export function isLogSpaced(xs: number[]): boolean {
  return xs.length > 1 && xs.every((x) => Number.isFinite(x) && x > 0) && Math.max(...xs) / Math.min(...xs) >= 10;
}
