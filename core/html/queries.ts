/**
 * Per-query comparisons for the HTML reports: which queries two evaluations (base and fine-tuned,
 * or run A and run B) ranked better or worse, by the rank of the right document.
 */
import type { PerQuery } from '../run/records.js';
import { escapeHtml, htmlTable } from './page.js';

/** Rank (1-based) of the first relevant document in `top`, or undefined when none is there. */
const rankOf = (q: PerQuery) => {
  const i = q.top.findIndex((h) => q.expected.includes(h.id));
  return i < 0 ? undefined : i + 1;
};

function topList(q: PerQuery, n: number): string {
  return q.top
    .slice(0, n)
    .map((h) => (q.expected.includes(h.id) ? `<b>${escapeHtml(h.id)}</b>` : escapeHtml(h.id)))
    .join(', ');
}

/** The queries whose rank of the right document changed most from `before` to `after` (e.g. base → fine-tuned), both ways. */
export function changedQueries(base: Map<string, PerQuery>, tuned: Map<string, PerQuery>, k: number, names: [string, string] = ['base', 'fine-tuned']): { better: string; worse: string } {
  const inf = k + 1;
  const pairs = [...tuned.values()].flatMap((t) => {
    const b = base.get(t.query_id);
    return b ? [{ b, t, before: rankOf(b) ?? inf, after: rankOf(t) ?? inf }] : [];
  });
  const rankText = (r: number) => (r > k ? `not in top ${k}` : String(r));
  const table = (list: typeof pairs) =>
    list.length === 0
      ? '<p class="muted">none</p>'
      : htmlTable(
          ['query', 'expected', `rank ${names[0]} → ${names[1]}`, `top ${Math.min(3, k)} ${names[0]}`, `top ${Math.min(3, k)} ${names[1]}`],
          list.map(({ b, t, before, after }) => [escapeHtml(t.text), escapeHtml(t.expected.join(', ')), `${rankText(before)} → ${rankText(after)}`, topList(b, 3), topList(t, 3)]),
        );
  const better = pairs.filter((p) => p.after < p.before).sort((x, y) => y.before - y.after - (x.before - x.after) || x.after - y.after).slice(0, 10);
  const worse = pairs.filter((p) => p.after > p.before).sort((x, y) => y.after - y.before - (x.after - x.before) || x.before - y.before).slice(0, 10);
  return { better: table(better), worse: table(worse) };
}

