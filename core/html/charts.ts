/**
 * Charts for the HTML reports, drawn by Apache ECharts' server-side renderer straight to SVG
 * strings (no DOM, no browser, no network): the report embeds them inline and opens anywhere.
 * ECharts was chosen over Vega-Lite (27 packages, a scenegraph and loader to render one SVG) and
 * Observable Plot (needs a server-side DOM): two small dependencies, a maintained SSR API
 * (`init(null, null, { ssr: true, renderer: 'svg' })` + `renderToSVGString()`), and the line, bar
 * and scatter charts these reports need.
 */
import * as echarts from 'echarts';

export interface Series {
  name: string;
  points: Array<[number, number]>;
}

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948'];
const BASE = { animation: false, color: PALETTE, textStyle: { fontFamily: 'system-ui, sans-serif' } };

function render(option: Record<string, unknown>, width: number, height: number): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ ...BASE, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** Lines over a numeric x axis (e.g. loss by step). */
export function lineChart(title: string, xName: string, series: Series[], opts: { yName?: string; width?: number; height?: number } = {}): string {
  return render(
    {
      title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
      legend: series.length > 1 ? { bottom: 0 } : undefined,
      grid: { left: 64, right: 24, top: 40, bottom: series.length > 1 ? 72 : 44 },
      xAxis: { type: 'value', name: xName, nameLocation: 'middle', nameGap: 24, min: 'dataMin', max: 'dataMax' },
      yAxis: { type: 'value', name: opts.yName, scale: true },
      series: series.map((s) => ({ type: 'line', name: s.name, data: s.points, showSymbol: s.points.length <= 30, symbolSize: 5 })),
    },
    opts.width ?? 640,
    opts.height ?? 280,
  );
}

/** Horizontal grouped bars: one row per category, one bar per series (values in [0, 1]). */
export function barChart(title: string, categories: string[], series: Array<{ name: string; values: number[] }>, opts: { width?: number } = {}): string {
  const height = Math.max(160, 60 + categories.length * (10 + 8 * series.length));
  return render(
    {
      title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
      legend: { bottom: 0 },
      grid: { left: 8, right: 24, top: 40, bottom: 48, containLabel: true },
      xAxis: { type: 'value', min: 0, max: 1 },
      yAxis: { type: 'category', data: categories, inverse: true, axisLabel: { width: 180, overflow: 'truncate' } },
      series: series.map((s) => ({ type: 'bar', name: s.name, data: s.values })),
    },
    opts.width ?? 640,
    height,
  );
}

/** Points of (x, y) per series, x categorical or numeric (e.g. a sweep's primary metric against a parameter). */
export function scatterChart(title: string, xName: string, yName: string, series: Array<{ name: string; points: Array<[number | string, number]> }>): string {
  const categorical = series.some((s) => s.points.some(([x]) => typeof x === 'string'));
  const xs = [...new Set(series.flatMap((s) => s.points.map(([x]) => String(x))))];
  return render(
    {
      title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
      legend: series.length > 1 ? { bottom: 0, itemGap: 28 } : undefined, // the server-side renderer measures legend text short
      grid: { left: 64, right: 24, top: 40, bottom: series.length > 1 ? 80 : 56 }, // room for the legend under the axis name
      xAxis: categorical ? { type: 'category', data: xs, name: xName, nameLocation: 'middle', nameGap: 28 } : { type: 'value', name: xName, nameLocation: 'middle', nameGap: 28, scale: true },
      yAxis: { type: 'value', name: yName, scale: true },
      series: series.map((s) => ({ type: 'scatter', name: s.name, symbolSize: 10, data: s.points.map(([x, y]) => [categorical ? String(x) : x, y]) })),
    },
    560,
    280,
  );
}
