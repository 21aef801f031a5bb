/**
 * Plain float64 reference implementations of the sentence-transformers losses, written from their
 * definitions (loops, no tensors), for checking the tfjs plugins on random batches and every distance,
 * and for finite-difference gradient checks.
 */
export type Vec = number[];
export type BatchMetric = 'euclidean' | 'squared_euclidean' | 'cosine';
export type RowMetric = 'euclidean' | 'manhattan' | 'cosine';

const dot = (a: Vec, b: Vec): number => a.reduce((s, v, i) => s + v * b[i]!, 0);
const norm = (a: Vec): number => Math.sqrt(dot(a, a));
const cos = (a: Vec, b: Vec, eps = 1e-8): number => dot(a, b) / (Math.max(norm(a), eps) * Math.max(norm(b), eps));

export function pdist(e: Vec[], metric: BatchMetric): number[][] {
  return e.map((a) =>
    e.map((b) => {
      if (metric === 'cosine') return 1 - cos(a, b, 1e-12);
      const sq = a.reduce((s, v, k) => s + (v - b[k]!) ** 2, 0);
      return metric === 'squared_euclidean' ? sq : Math.sqrt(sq);
    }),
  );
}

export function rowDist(a: Vec, b: Vec, metric: RowMetric): number {
  if (metric === 'cosine') return 1 - cos(a, b);
  const diffs = a.map((v, k) => v - b[k]! + 1e-6);
  return metric === 'manhattan' ? diffs.reduce((s, v) => s + Math.abs(v), 0) : Math.sqrt(diffs.reduce((s, v) => s + v * v, 0));
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

export function semiHard(e: Vec[], labels: number[], margin: number, metric: BatchMetric): number {
  const d = pdist(e, metric);
  const n = e.length;
  let sum = 0;
  let count = 0;
  for (const a of range(n)) {
    const negs = range(n).filter((k) => labels[k] !== labels[a]);
    for (const p of range(n)) {
      if (p === a || labels[p] !== labels[a]) continue;
      count++;
      const farther = negs.filter((k) => d[a]![k]! > d[a]![p]!).map((k) => d[a]![k]!);
      // No farther negative: the farthest negative (the row minimum when there is no negative at all).
      const neg = farther.length
        ? Math.min(...farther)
        : negs.length
          ? Math.max(...negs.map((k) => d[a]![k]!))
          : Math.min(...d[a]!);
      sum += Math.max(d[a]![p]! - neg + margin, 0);
    }
  }
  return count ? sum / count : 0;
}

function hardest(e: Vec[], labels: number[], metric: BatchMetric): Array<[number, number]> {
  const d = pdist(e, metric);
  return range(e.length).map((a) => {
    const row = d[a]!;
    const pos = Math.max(0, ...range(e.length).filter((p) => p !== a && labels[p] === labels[a]).map((p) => row[p]!));
    const negs = range(e.length).filter((k) => labels[k] !== labels[a]).map((k) => row[k]!);
    const neg = negs.length ? Math.min(...negs) : Math.max(...row) + Math.min(...row);
    return [pos, neg];
  });
}

export function batchHard(e: Vec[], labels: number[], margin: number, metric: BatchMetric): number {
  const h = hardest(e, labels, metric);
  return h.reduce((s, [p, n]) => s + Math.max(p - n + margin, 0), 0) / h.length;
}

export function batchHardSoft(e: Vec[], labels: number[], metric: BatchMetric): number {
  const h = hardest(e, labels, metric);
  return h.reduce((s, [p, n]) => s + Math.log1p(Math.exp(p - n)), 0) / h.length;
}

export function batchAll(e: Vec[], labels: number[], margin: number, metric: BatchMetric): number {
  const d = pdist(e, metric);
  let sum = 0;
  let active = 0;
  for (const a of range(e.length))
    for (const p of range(e.length))
      for (const k of range(e.length)) {
        if (a === p || labels[a] !== labels[p] || labels[a] === labels[k]) continue;
        const l = Math.max(d[a]![p]! - d[a]![k]! + margin, 0);
        sum += l;
        if (l > 1e-16) active++;
      }
  return sum / (active + 1e-16);
}

export function triplet(a: Vec[], p: Vec[], n: Vec[], margin: number, metric: RowMetric): number {
  return a.reduce((s, x, i) => s + Math.max(rowDist(x, p[i]!, metric) - rowDist(x, n[i]!, metric) + margin, 0), 0) / a.length;
}

export function mnrl(a: Vec[], p: Vec[], n: Vec[] | undefined, scale: number, sim: 'cos' | 'dot'): number {
  const docs = n ? [...p, ...n] : p;
  const f = sim === 'cos' ? (x: Vec, y: Vec) => cos(x, y, 1e-12) : dot;
  let total = 0;
  a.forEach((q, i) => {
    const s = docs.map((d) => scale * f(q, d));
    const m = Math.max(...s);
    const logZ = m + Math.log(s.reduce((acc, v) => acc + Math.exp(v - m), 0));
    total += logZ - s[i]!;
  });
  return total / a.length;
}

export function contrastive(a: Vec[], b: Vec[], y: number[], margin: number, metric: RowMetric, sizeAverage: boolean): number {
  const l = a.map((x, i) => {
    const d = rowDist(x, b[i]!, metric);
    return 0.5 * (y[i]! * d * d + (1 - y[i]!) * Math.max(margin - d, 0) ** 2);
  });
  const s = l.reduce((acc, v) => acc + v, 0);
  return sizeAverage ? s / l.length : s;
}
