/**
 * evaluate.sets (more evaluation sets, the forgetting guard's measuring side): every evaluated model
 * is also scored on each set, with its own corpus, and the results are reported per set in
 * metrics.json, per_query.jsonl, events.jsonl, the console, report.md, report.html and `ftrun diff`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import { modelLabel } from '../../core/report.js';
import { asSetError } from '../../core/run/eval-sets.js';
import type { PerQuery, RunMetrics } from '../../core/run/records.js';
import ConsoleSink from '../../plugins/sink/console.js';
import { cli, tempDir } from '../helpers/cli.js';
import { makeContext } from '../helpers/context.js';
import { fixtureEmbeddings } from '../helpers/fixture-embeddings.js';
import { ROOT, TINY_BERT, TRANSACTIONS, TRANSACTIONS_EXPERIMENT, describeShared } from '../helpers/shared.js';

const GENERAL = join(ROOT, 'configs', 'data', 'general-qa.jsonl');

/** An experiment on the transactions data and tiny-bert with the general set; `evaluate` lines are added. */
const experiment = (extra = '', general = `{ type: jsonl, queries: ${GENERAL} }`) => `name: sets
${TRANSACTIONS_EXPERIMENT}backend: { type: ort, intra_op_threads: 1 }
miner: { type: random-negative }
loss: { type: multiple-negatives-ranking }
training: { method: full, epochs: 1, learning_rate: 1.0e-3 }
evaluate:
  compare: [base, finetuned]
  metrics: [mrr, hit]
  k: [1, 3]
  name: transactions
  sets:
    general: ${general}
${extra}`;

const lines = <T>(file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);

/** Independent reference: mrr@1 and hit@3 of exact cosine ranking of the fixture embeddings, ties by corpus order. */
async function reference(queries: string[], docs: string[], relevant: string[]) {
  const q = await fixtureEmbeddings(queries);
  const d = await fixtureEmbeddings(docs);
  let mrr1 = 0;
  let hit3 = 0;
  q.forEach((qv, i) => {
    const ranked = d.map((dv, j) => ({ j, s: dv.reduce((a, x, t) => a + x * qv[t]!, 0) })).sort((a, b) => b.s - a.s || a.j - b.j).map((h) => docs[h.j]!);
    if (ranked[0] === relevant[i]) mrr1 += 1;
    if (ranked.slice(0, 3).includes(relevant[i]!)) hit3 += 1;
  });
  return { 'mrr@1': mrr1 / q.length, 'hit@3': hit3 / q.length };
}

describeShared('ftrun run with evaluate.sets (tiny-bert, transactions + general)', () => {
  it('evaluates base and fine-tuned on every set and reports each: metrics.json, per_query, events, console, report.md, report.html, diff', async () => {
    const dir = tempDir('ftrun-sets-');
    writeFileSync(join(dir, 'x.yaml'), experiment());
    const r = await cli(['run', join(dir, 'x.yaml'), '--runs-dir', join(dir, 'runs'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const runDir = JSON.parse(r.stdout).run_dir as string;

    // metrics.json: models stays the primary set's; sets.general has every metric of both models
    const m = JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8')) as RunMetrics;
    expect(m.primary_set).toBe('transactions');
    expect(Object.keys(m.sets!)).toEqual(['general']);
    expect(Object.keys(m.sets!.general!)).toEqual(['base', 'finetuned']);
    for (const model of ['base', 'finetuned']) {
      expect(Object.keys(m.models[model]!)).toEqual(['mrr@1', 'mrr@3', 'hit@1', 'hit@3']);
      expect(Object.keys(m.sets!.general![model]!)).toEqual(['mrr@1', 'mrr@3', 'hit@1', 'hit@3']);
    }
    // the general set's base metrics are those of an exact ranking of its 40 passages (the sorted expected values)
    const general = lines<{ input: string; expected: string }>(GENERAL);
    const passages = general.map((g) => g.expected).sort();
    const ref = await reference(general.map((g) => g.input), passages, general.map((g) => g.expected));
    expect(m.sets!.general!.base!['mrr@1']).toBeCloseTo(ref['mrr@1'], 9);
    expect(m.sets!.general!.base!['hit@3']).toBeCloseTo(ref['hit@3'], 9);
    // and differ from the primary set's (another corpus, other queries)
    expect(m.sets!.general!.base!['mrr@1']).not.toBe(m.models.base!['mrr@1']);

    // per_query.jsonl: the primary set's rows carry no set, the general set's carry it
    const rows = lines<PerQuery>(join(runDir, 'per_query.jsonl'));
    for (const model of ['base', 'finetuned']) {
      expect(rows.filter((q) => q.model === model && q.set === undefined)).toHaveLength(66);
      const set = rows.filter((q) => q.model === model && q.set === 'general');
      expect(set).toHaveLength(40);
      expect(set.map((q) => q.text)).toEqual(general.map((g) => g.input));
      const mean = set.reduce((s, q) => s + q.metrics['mrr@1']!, 0) / set.length;
      expect(mean).toBeCloseTo(m.sets!.general![model]!['mrr@1']!, 12);
    }
    // events.jsonl: one eval event per model and set
    const evals = lines<{ type: string; model: string; set?: string; metrics: Record<string, number> }>(join(runDir, 'events.jsonl')).filter((e) => e.type === 'eval');
    expect(evals.map((e) => [e.model, e.set])).toEqual([['base', undefined], ['base', 'general'], ['finetuned', undefined], ['finetuned', 'general']]);
    expect(evals[1]!.metrics).toEqual(m.sets!.general!.base);

    // the console: one block per set, the primary metric naming its set
    const f = (x: number) => x.toFixed(3);
    const g = m.sets!.general!;
    expect(r.stderr).toContain(`evaluated fine-tuned on general (40 queries): MRR@1 ${f(g.finetuned!['mrr@1']!)}\n`);
    expect(r.stderr).toContain('\ntransactions (primary):\nmetric ');
    // Δ with its interval on the set too (metrics.json sets_delta_ci)
    expect(r.stderr).toMatch(new RegExp(`\\ngeneral:\\nmetric +base +fine-tuned +Δ\\nMRR@1 +${f(g.base!['mrr@1']!)} +${f(g.finetuned!['mrr@1']!)} +[+-]\\d\\.\\d{3} \\[[+-]\\d\\.\\d{3}, [+-]\\d\\.\\d{3}\\] p[=<]\\d\\.\\d{3}( n\\.s\\.)?\\n`));
    expect(r.stderr).toContain(`primary: MRR@1 on transactions (base ${f(m.models.base!['mrr@1']!)}, fine-tuned ${f(m.models.finetuned!['mrr@1']!)}, Δ `);

    // report.md: a table per set
    const report = readFileSync(join(runDir, 'report.md'), 'utf8');
    expect(report).toContain('- primary metric: MRR@1 on transactions\n');
    expect(report).toContain(`### transactions (primary)\n\n| metric | base | fine-tuned | Δ |\n| --- | ---: | ---: | ---: |\n| MRR@1 | ${f(m.models.base!['mrr@1']!)} | ${f(m.models.finetuned!['mrr@1']!)} |`);
    expect(report).toContain(`### general\n\n| metric | base | fine-tuned | Δ |\n| --- | ---: | ---: | ---: |\n| MRR@1 | ${f(g.base!['mrr@1']!)} | ${f(g.finetuned!['mrr@1']!)} |`);
    // report.html: a table per set; the per-query sections are the primary set's
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    expect(html).toContain('MRR@1 on transactions: base <b>');
    expect(html).toMatch(/<h3>transactions \(primary\)<\/h3>\n<table>[^]*<h3>general<\/h3>\n<table><thead><tr><th>metric<\/th><th class="num">base<\/th><th class="num">fine-tuned<\/th><th class="num">Δ<\/th>/);

    // ftrun diff against a second run (another learning rate): each set compared, as '<model> [<set>]'
    writeFileSync(join(dir, 'y.yaml'), experiment().replace('learning_rate: 1.0e-3', 'learning_rate: 2.0e-3'));
    const r2 = await cli(['run', join(dir, 'y.yaml'), '--runs-dir', join(dir, 'runs2'), '--json', '--quiet']);
    expect(r2.code, r2.stderr).toBe(0);
    const runDir2 = JSON.parse(r2.stdout).run_dir as string;
    const m2 = JSON.parse(readFileSync(join(runDir2, 'metrics.json'), 'utf8')) as RunMetrics;
    const d = await cli(['diff', runDir, runDir2, '--json']);
    expect(d.code, d.stderr).toBe(0);
    const diff = JSON.parse(d.stdout).metrics as Record<string, Record<string, { a: number; b: number; delta: number }>>;
    expect(Object.keys(diff)).toEqual(['base', 'finetuned', 'base [general]', 'finetuned [general]']);
    expect(diff['finetuned [general]']!['hit@3']).toEqual({ a: g.finetuned!['hit@3'], b: m2.sets!.general!.finetuned!['hit@3'], delta: expect.closeTo(m2.sets!.general!.finetuned!['hit@3']! - g.finetuned!['hit@3']!, 9), ci: expect.objectContaining({ significant: expect.any(Boolean) }) });
    // the interval of a set's row pairs that set's 40 queries
    expect(JSON.parse(d.stdout).queries['finetuned [general]']).toEqual({ paired: 40, only_a: 0, only_b: 0 });
    const text = await cli(['diff', runDir, runDir2]);
    expect(text.stdout).toMatch(new RegExp(`\\n  fine-tuned \\[general\\] +MRR@1 +${f(g.finetuned!['mrr@1']!)} +${f(m2.sets!.general!.finetuned!['mrr@1']!)} `));
  }, 240_000);

  it('evaluates the merged model (training.merge) on every set too', async () => {
    const dir = tempDir('ftrun-sets-');
    writeFileSync(join(dir, 'x.yaml'), experiment().replace('learning_rate: 1.0e-3 }', 'learning_rate: 1.0e-3, merge: { base_weight: 0.5 } }'));
    const r = await cli(['run', join(dir, 'x.yaml'), '--runs-dir', join(dir, 'runs'), '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const runDir = JSON.parse(r.stdout).run_dir as string;
    const m = JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8')) as RunMetrics;
    expect(Object.keys(m.sets!.general!)).toEqual(['base', 'finetuned', 'merged']);
    const rows = lines<PerQuery>(join(runDir, 'per_query.jsonl')).filter((q) => q.model === 'merged');
    expect(rows.filter((q) => q.set === 'general')).toHaveLength(40);
    const mean = rows.filter((q) => q.set === 'general').reduce((s, q) => s + q.metrics['hit@3']!, 0) / 40;
    expect(mean).toBeCloseTo(m.sets!.general!.merged!['hit@3']!, 12);
    expect(readFileSync(join(runDir, 'report.md'), 'utf8')).toContain('### general\n\n| metric | base | fine-tuned | merged | Δ | Δ merged |\n');
  }, 240_000);

  describe('a bad evaluation set is refused at its option, with its line (exit 2)', () => {
    async function refused(general: string, extra = '') {
      const dir = tempDir('ftrun-sets-');
      writeFileSync(join(dir, 'x.yaml'), experiment(extra, general));
      const r = await cli(['run', join(dir, 'x.yaml'), '--runs-dir', join(dir, 'runs')]);
      expect(r.code).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      return r.stderr.replaceAll(dir + '/', '');
    }
    // `general:` is at line 18 (a set after it at line 19)
    it('an unknown dataset type', async () => {
      expect(await refused('{ type: jsnl, queries: q.jsonl }')).toBe(
        'error[E_CONFIG]: Config is not valid, found 1 problem:\n  x.yaml:18:22 evaluate.sets.general.type: unknown dataset plugin "jsnl". Did you mean "jsonl"? Available: braintrust, csv, generate, hf, jsonl, parquet, synthetic-transactions.\n',
      );
    });
    it('a missing file', async () => {
      const stderr = await refused('{ type: jsonl, queries: missing.jsonl }');
      expect(stderr).toBe('error[E_CONFIG]: Config is not valid, found 1 problem:\n  x.yaml:18:38 evaluate.sets.general.queries: file not found: missing.jsonl\n');
    });
    it('a set named as the primary set', async () => {
      const stderr = await refused(`{ type: jsonl, queries: ${GENERAL} }\n    transactions: { type: jsonl, queries: ${GENERAL} }`);
      expect(stderr).toBe(
        'error[E_CONFIG]: Config is not valid, found 1 problem:\n  x.yaml:19:5 evaluate.sets.transactions: set name "transactions" is the primary set\'s name (evaluate.name); give this set another name, or the primary set another evaluate.name\n',
      );
    });
    it('a set name that is not an identifier', async () => {
      const stderr = await refused(`{ type: jsonl, queries: ${GENERAL} }\n    "gen eral": { type: jsonl, queries: ${GENERAL} }`);
      expect(stderr).toBe(
        'error[E_CONFIG]: Config is not valid, found 1 problem:\n  x.yaml:19:5 evaluate.sets["gen eral"]: set name "gen eral" is not an identifier; valid: a letter or "_", then letters, digits, "_" or "-"\n',
      );
    });
  });
});

describe('evaluation set errors', () => {
  it("a dataset plugin's error naming its option names the set's option", () => {
    const e = asSetError(new UserError('E_DATA', 'dataset.queries: file not found: q.jsonl'), 'general') as UserError;
    expect(e).toBeInstanceOf(UserError);
    expect(e.code).toBe('E_DATA');
    expect(e.message).toBe('evaluate.sets.general.queries: file not found: q.jsonl');
    // other errors pass unchanged
    const other = new UserError('E_DATA', 'q.jsonl:3: field "input" must be a string, got number');
    expect(asSetError(other, 'general')).toBe(other);
  });
});

describe('console sink with evaluate.sets', () => {
  it('prints one table per set, the primary first, and the primary metric on its set', () => {
    const s = new ConsoleSink({ digits: 3 }, makeContext());
    const out: string[] = [];
    s.write = (t) => void out.push(t);
    s.logEvalSet('general', 'finetuned', [], { 'mrr@1': 0.45 });
    s.close({
      name: 'm',
      runDir: '/runs/m/1',
      status: 'ok',
      primary: 'mrr@1',
      models: { base: { 'mrr@1': 0.3 }, finetuned: { 'mrr@1': 0.5 } },
      delta: { 'mrr@1': 0.2 },
      primarySet: 'transactions',
      sets: { general: { base: { 'mrr@1': 0.6 }, finetuned: { 'mrr@1': 0.45 } } },
      timings: {},
    });
    const text = out.join('');
    expect(text).toContain('evaluated fine-tuned on general (0 queries): MRR@1 0.450\n');
    expect(text).toContain(
      ['m: ok', '', 'transactions (primary):', 'metric   base  fine-tuned       Δ', 'MRR@1   0.300       0.500  +0.200', '', 'general:', 'metric   base  fine-tuned       Δ', 'MRR@1   0.600       0.450  -0.150', '', 'primary: MRR@1 on transactions (base 0.300, fine-tuned 0.500, Δ +0.200)'].join('\n'),
    );
  });

  it('labels a diff row of the fine-tuned model on a set or dimension as fine-tuned', () => {
    expect(modelLabel('finetuned [general]')).toBe('fine-tuned [general]');
    expect(modelLabel('finetuned @64')).toBe('fine-tuned @64');
    expect(modelLabel('finetuned')).toBe('fine-tuned');
    expect(modelLabel('finetuned2')).toBe('finetuned2');
  });
});
