import { describe, expect, it } from 'vitest';
import type { Query } from '../../../core/types.js';
import NoneSplitter from '../../../plugins/splitter/none.js';
import { makeContext } from '../../helpers/context.js';

const q = (id: string): Query => ({ id, text: id, relevant: ['A'], label: 'A' });

describe('splitter none', () => {
  it('puts every query in train and evaluates on the eval set', () => {
    const queries = [q('a'), q('b')];
    const evalSet = [q('e')];
    const r = new NoneSplitter({}, makeContext()).split({ queries, eval: evalSet, corpus: [] });
    expect(r.train).toEqual(queries);
    expect(r.test).toEqual([]);
    expect(r.eval).toBe(evalSet);
  });

  it('without an eval set, evaluates on the queries themselves and warns', () => {
    const warnings: string[] = [];
    const ctx = makeContext({ logger: { info() {}, debug() {}, warn: (m) => warnings.push(m) } });
    const queries = [q('a')];
    const r = new NoneSplitter({}, ctx).split({ queries, corpus: [] });
    expect(r.eval).toBe(queries);
    expect(warnings).toEqual(['splitter none: the dataset has no eval set; evaluating on the training queries']);
  });
});
