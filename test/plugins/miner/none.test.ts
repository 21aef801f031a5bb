import { describe, expect, it } from 'vitest';
import type { Query } from '../../../core/types.js';
import NoneMiner from '../../../plugins/miner/none.js';
import { makeContext } from '../../helpers/context.js';

describe('miner none', () => {
  it('declares labelled statically and on the instance', () => {
    expect(NoneMiner.provides).toEqual(['labelled']);
    expect(new NoneMiner({}, makeContext()).provides).toEqual(['labelled']);
  });

  it('turns labelled queries into (anchor, label) examples, nothing else', async () => {
    const train: Query[] = [
      { id: '1', text: 'a', relevant: ['X'], label: 'L1' },
      { id: '2', text: 'b', relevant: ['Y'] },
    ];
    const ex = await new NoneMiner({}, makeContext()).mine(train, []);
    expect(ex).toEqual({ shapes: ['labelled'], items: [{ anchor: 'a', label: 'L1' }, { anchor: 'b', label: 'Y' }] });
  });

  it('produces no shape when some query has no label', async () => {
    const warnings: string[] = [];
    const ctx = makeContext({ logger: { info() {}, debug() {}, warn: (m) => warnings.push(m) } });
    const ex = await new NoneMiner({}, ctx).mine([{ id: '1', text: 'a', relevant: [] }], []);
    expect(ex).toEqual({ shapes: [], items: [{ anchor: 'a' }] });
    expect(warnings).toEqual(['miner none: 1 of 1 training queries have no label; the examples are not labelled']);
  });
});
