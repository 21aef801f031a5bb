import { describe, expect, it } from 'vitest';
import MemoryStore from '../../../plugins/store/memory.js';
import { makeContext } from '../../helpers/context.js';

const docs = ['a', 'b', 'c', 'd'].map((id) => ({ id, text: id }));
const v = (...xs: number[]) => Float32Array.from(xs);

describe('store memory', () => {
  it('ranks by cosine similarity, normalising vectors itself', async () => {
    const s = new MemoryStore({}, makeContext());
    await s.index('m', docs, [v(10, 0), v(0, 3), v(1, 1), v(-2, 0)]);
    const [hits] = await s.search('m', [v(2, 1)], 3);
    // query (2,1)/√5 · c (1,1)/√2 = 3/√10 ≈ 0.949; · a (1,0) = 2/√5 ≈ 0.894; · b (0,1) = 1/√5
    expect(hits!.map((h) => h.id)).toEqual(['c', 'a', 'b']);
    expect(hits![0]!.score).toBeCloseTo(3 / Math.sqrt(10), 6);
    expect(hits![1]!.score).toBeCloseTo(2 / Math.sqrt(5), 6);
    expect(hits![2]!.score).toBeCloseTo(1 / Math.sqrt(5), 6);
  });

  it('breaks ties by corpus order and caps k at the corpus size', async () => {
    const s = new MemoryStore({}, makeContext());
    await s.index('m', docs, [v(0, 1), v(1, 0), v(2, 0), v(1, 0)]);
    const [hits] = await s.search('m', [v(1, 0)], 10);
    expect(hits!.map((h) => h.id)).toEqual(['b', 'c', 'd', 'a']);
  });

  it('refuses to replace a table and checks dimensions', async () => {
    const s = new MemoryStore({}, makeContext());
    await s.index('m', docs.slice(0, 1), [v(1, 0)]);
    await expect(s.index('m', docs.slice(0, 1), [v(1, 0)])).rejects.toThrow('store memory: table "m" already exists');
    await expect(s.index('n', docs.slice(0, 2), [v(1, 0)])).rejects.toThrow('2 documents but 1 vectors');
    await expect(s.index('n', docs.slice(0, 2), [v(1, 0), v(1, 0, 0)])).rejects.toThrow('vector 1 has dimension 3, expected 2');
    await expect(s.search('m', [v(1, 0, 0)], 1)).rejects.toThrow('dimension 3');
    await expect(s.search('x', [v(1, 0)], 1)).rejects.toThrow('no table "x"');
    await s.close();
    await expect(s.search('m', [v(1, 0)], 1)).rejects.toThrow('no table "m"');
  });
});
