/**
 * The data's own negatives (Query.negatives, from the dataset's `negatives` option) in mined
 * examples, shared by the miners that mine negatives (`random-negative`, `hard-negative`): their
 * `explicit_negatives` option says whether the data's negatives come first, replace mining, or
 * are ignored. The query's score and teacher values are passed on either way.
 */
import type { Example, Query } from '../../core/types.js';

export type ExplicitNegatives = 'first' | 'replace' | 'ignore';

export const EXPLICIT_NEGATIVES_SCHEMA = {
  type: 'string',
  enum: ['first', 'replace', 'ignore'],
  default: 'first',
  description:
    "The data's own negatives (dataset negatives): first = each example's negatives are the query's own, then the mined one; replace = a query with negatives of its own is not mined (one example with its negatives); ignore = mined negatives only.",
} as const;

/**
 * `e` (with its mined `negative`, if any) with query `q`'s own negatives as `how` says, and its
 * score and teacher values. `negative` stays the first negative, so a loss that reads one reads it.
 */
export function withExplicit(e: Example, q: Query, how: ExplicitNegatives): Example {
  const own = how === 'ignore' ? [] : (q.negatives ?? []);
  const mined = (how === 'replace' && own.length > 0) || e.negative === undefined ? [] : [e.negative];
  const negatives = [...own, ...mined];
  const out: Example = { ...e };
  delete out.negative;
  if (negatives.length > 0) {
    out.negative = negatives[0]!;
    if (own.length > 0) out.negatives = negatives;
  }
  if (q.score !== undefined) out.score = q.score;
  if (q.teacher !== undefined) out.teacher = [...q.teacher];
  return out;
}
