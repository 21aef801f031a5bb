/**
 * Batch assembly, once for every engine and for adapters: a batch of examples becomes the text
 * columns a loss reads (anchor, positive, negative 1…n) and the per-example values that are not
 * texts (class ids, pair labels, scores, teacher values), by the loss's `needs`.
 *
 * Columns by shape:
 * - labelled: anchor (+ labels)
 * - pairs: anchor, positive, and negative 1…n when every example has at least one negative
 * - triplets: anchor, positive, negative 1…n (at least one each)
 * - labelled-pairs: anchor, the second sentence as `positive` (+ pairLabels)
 * With negatives, n is the fewest negatives any example of the batch has (an n-tuple batch is
 * rectangular). Scores and teacher values are added when every example has them.
 *
 * Anchors are embedded as queries (query prompt), every other column as documents.
 */
import type { Example, ExampleShape, TextKind } from '../types.js';

export type ColumnRole = 'anchor' | 'positive' | 'negative';

export interface TextColumn {
  role: ColumnRole;
  /** Which prompt the texts get. */
  kind: TextKind;
  texts: string[];
}

/** Per-example values of a batch that are not texts. */
export interface ColumnValues {
  /** Class ids (labelled): equal ids = same label. */
  labels?: number[];
  /** 1/0 (labelled-pairs). */
  pairLabels?: number[];
  /** A float score per example. */
  scores?: number[];
  /** Teacher values per example, all of one length. */
  teacher?: number[][];
  /** A guide model's embeddings of each text column, in column order ([rows·dim] each), for a loss with a guide. */
  guide?: { dim: number; columns: Float32Array[] };
}

export interface LossColumns {
  /** Examples in the batch (rows of every column). */
  rows: number;
  columns: TextColumn[];
  values: ColumnValues;
}

/** The negatives of an example: `negatives` when given, else `[negative]`, else none. */
export function negativesOf(e: Example): string[] {
  if (e.negatives !== undefined) return e.negatives;
  return e.negative === undefined ? [] : [e.negative];
}

/**
 * Reads a batch of examples as the columns a loss needs. `labelIds` maps class labels to ids (e.g.
 * the index in the sorted label list); it is extended with unseen labels. For labelled-pairs the
 * second sentence is `positive` for a pair labelled 1 and `negative` for one labelled 0 (whichever
 * is given when only one is).
 */
export function lossColumns(needs: ExampleShape, items: Example[], labelIds: Map<string, number> = new Map()): LossColumns {
  const column = (role: ColumnRole, texts: string[]): TextColumn => ({ role, kind: role === 'anchor' ? 'query' : 'document', texts });
  const columns: TextColumn[] = [column('anchor', items.map((e) => e.anchor))];
  const values: ColumnValues = {};
  const positives = (): string[] =>
    items.map((e, i) => {
      if (e.positive === undefined) throw new Error(`example ${i} has no positive (loss needs ${needs})`);
      return e.positive;
    });
  const negatives = (required: boolean): void => {
    const lists = items.map(negativesOf);
    const n = lists.length === 0 ? 0 : Math.min(...lists.map((l) => l.length));
    if (n === 0 && required) {
      const i = lists.findIndex((l) => l.length === 0);
      throw new Error(`example ${i} has no negative (loss needs ${needs})`);
    }
    for (let j = 0; j < n; j++) columns.push(column('negative', lists.map((l) => l[j]!)));
  };
  switch (needs) {
    case 'labelled':
      values.labels = items.map((e, i) => {
        if (e.label === undefined) throw new Error(`example ${i} has no label (loss needs labelled sentences)`);
        if (!labelIds.has(e.label)) labelIds.set(e.label, labelIds.size);
        return labelIds.get(e.label)!;
      });
      break;
    case 'pairs':
      columns.push(column('positive', positives()));
      negatives(false);
      break;
    case 'triplets':
      columns.push(column('positive', positives()));
      negatives(true);
      break;
    case 'labelled-pairs': {
      const pairLabels = items.map((e, i) => {
        if (e.pairLabel !== 0 && e.pairLabel !== 1) throw new Error(`example ${i} has no 0/1 pairLabel`);
        return e.pairLabel;
      });
      columns.push(
        column(
          'positive',
          items.map((e, i) => {
            const pick = pairLabels[i] === 1 ? (e.positive ?? e.negative) : (e.negative ?? e.positive);
            if (pick === undefined) throw new Error(`example ${i} has no second sentence`);
            return pick;
          }),
        ),
      );
      values.pairLabels = pairLabels;
      break;
    }
  }
  if (items.length > 0 && items.every((e) => typeof e.score === 'number')) values.scores = items.map((e) => e.score!);
  const k = items[0]?.teacher?.length;
  if (k !== undefined && k > 0 && items.every((e) => e.teacher?.length === k)) values.teacher = items.map((e) => e.teacher!);
  return { rows: items.length, columns, values };
}
