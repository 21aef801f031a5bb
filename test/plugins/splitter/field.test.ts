import { configAjv } from '../../../core/config/ajv.js';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../core/errors.js';
import type { Query } from '../../../core/types.js';
import FieldSplitter, { type FieldSplitterOptions } from '../../../plugins/splitter/field.js';
import { makeContext } from '../../helpers/context.js';

function options(o: Record<string, unknown>): FieldSplitterOptions {
  const copy = { ...o };
  const validate = configAjv({ useDefaults: true }).compile(FieldSplitter.schema);
  if (!validate(copy)) throw new Error(JSON.stringify(validate.errors));
  return copy as unknown as FieldSplitterOptions;
}
const q = (id: string, split: unknown): Query => ({ id, text: id, relevant: ['A'], label: 'A', fields: split === undefined ? {} : { split } });
const ids = (qs: Query[]) => qs.map((x) => x.id);

describe('splitter field', () => {
  const queries = [q('a', 'train'), q('b', 'test'), q('c', 'train'), q('d', 'eval')];

  it('splits by the field value', () => {
    const r = new FieldSplitter(options({ field: 'split' }), makeContext()).split({ queries, corpus: [] });
    expect(ids(r.train)).toEqual(['a', 'c']);
    expect(ids(r.test)).toEqual(['b']);
    expect(ids(r.eval)).toEqual(['d']);
  });

  it('eval: the dataset eval set, else eval-marked queries, else test, else all queries', () => {
    const evalSet = [q('x', undefined)];
    const s = new FieldSplitter(options({ field: 'split' }), makeContext());
    expect(s.split({ queries, eval: evalSet, corpus: [] }).eval).toBe(evalSet);
    expect(ids(s.split({ queries: queries.slice(0, 3), corpus: [] }).eval)).toEqual(['b']);
    const onlyTrain = [q('a', 'train')];
    expect(s.split({ queries: onlyTrain, corpus: [] }).eval).toBe(onlyTrain);
  });

  it('maps other values through the train/test/eval options', () => {
    const qs = [q('a', 'fit'), q('b', 'holdout'), q('c', 'fit')];
    const r = new FieldSplitter(options({ field: 'split', train: 'fit', test: 'holdout' }), makeContext()).split({ queries: qs, corpus: [] });
    expect(ids(r.train)).toEqual(['a', 'c']);
    expect(ids(r.test)).toEqual(['b']);
  });

  it('unknown or missing values are an error naming the values found', () => {
    const qs = [q('a', 'train'), q('b', 'dev'), q('c', 'dev'), q('d', undefined), q('e', 1)];
    let err: unknown;
    try {
      new FieldSplitter(options({ field: 'split' }), makeContext()).split({ queries: qs, corpus: [] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('E_DATA');
    expect((err as UserError).message).toBe(
      'splitter.field: field "split" has values that name no part: "dev" (first: b), (missing) (first: d), "1" (first: e). ' +
        'Values found: "train" (1), "dev" (2), (missing) (1), "1" (1). ' +
        'Allowed: "train", "test", "eval" (set splitter.train/test/eval to map other values).',
    );
  });

  it('requires the field option', () => {
    expect(() => options({})).toThrow();
    expect(options({ field: 'f' })).toEqual({ field: 'f', train: 'train', test: 'test', eval: 'eval' });
  });
});
