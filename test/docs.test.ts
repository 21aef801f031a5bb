/**
 * The docs that are generated from the schemas are current, and every built-in plugin has its page
 * with a YAML example that validates.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../core/builtins.js';
import { STAGES } from '../core/types.js';
import { configReference, schemaText } from '../scripts/gen-docs.js';
import { cli } from './helpers/cli.js';
import { ROOT, TRANSACTIONS, describeShared } from './helpers/shared.js';

describe('generated docs', () => {
  const registry = builtinRegistry();

  it('docs/config-reference.md is generated from the current schemas (run `npm run docs`)', () => {
    expect(readFileSync(join(ROOT, 'docs', 'config-reference.md'), 'utf8')).toBe(configReference(registry));
  });

  it('docs/ftrun.schema.json is current (run `npm run docs`)', () => {
    expect(readFileSync(join(ROOT, 'docs', 'ftrun.schema.json'), 'utf8')).toBe(schemaText(registry));
  });

  it('every built-in plugin has a doc page with a YAML example naming its type', () => {
    for (const stage of STAGES) {
      for (const [type] of registry.entries(stage)) {
        const page = join(ROOT, 'docs', 'plugins', stage, `${type}.md`);
        expect(existsSync(page), page).toBe(true);
        const text = readFileSync(page, 'utf8');
        expect(text, page).toMatch(/```ya?ml[\s\S]*type: /);
        expect(text, page).toContain(type);
      }
    }
  });
});

/**
 * Every YAML example in the docs means what it says: merged over a small valid experiment, it
 * passes `ftrun validate` (schema, checks, plugins' own checks) — so docs and schemas agree.
 */
// The examples read the reference data and model from ../shared (validate checks that the files exist).
describeShared('YAML examples in the docs', () => {
  const BASE = {
    name: 'docs-example',
    dataset: { type: 'jsonl', queries: join(TRANSACTIONS, 'train_transactions.jsonl'), corpus: { path: join(TRANSACTIONS, 'categories.json'), text: 'category' } },
    model: { id: 'BAAI/bge-small-en-v1.5' },
    miner: { type: 'random-negative' },
    loss: { type: 'multiple-negatives-ranking' },
  };
  const pages = [
    ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f)),
    ...readdirSync(join(ROOT, 'docs', 'plugins')).flatMap((d) => readdirSync(join(ROOT, 'docs', 'plugins', d)).map((f) => join(ROOT, 'docs', 'plugins', d, f))),
  ];
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const merge = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> => {
    const out = { ...a };
    // A plugin entry naming its type, or a model naming its source, replaces the base's.
    for (const [k, v] of Object.entries(b)) out[k] = isMap(out[k]) && isMap(v) && !['type', 'id', 'path', 'bundled'].some((x) => x in v) ? merge(out[k] as Record<string, unknown>, v) : v;
    return out;
  };
  for (const page of pages) {
    const text = readFileSync(page, 'utf8');
    const blocks = [...text.matchAll(/```ya?ml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    blocks.forEach((block, i) => {
      it(`${relative(ROOT, page)} example ${i + 1}`, async () => {
        const doc = parse(block) as unknown;
        if (!isMap(doc)) return; // not an experiment fragment
        const example = { ...doc };
        if (typeof example.extends === 'string') example.extends = resolve(ROOT, 'configs', example.extends);
        // Plugin modules the docs name are the tested ones: docs/examples/ or the test fixtures.
        const pluginFile = (p: string) => [join(ROOT, 'docs', 'examples', basename(p)), join(ROOT, 'test', 'fixtures', 'plugins', basename(p))].find(existsSync) ?? p;
        if (Array.isArray(example.plugins)) example.plugins = (example.plugins as string[]).map(pluginFile);
        const dir = mkdtempSync(join(tmpdir(), 'ftrun-docs-'));
        const file = join(dir, 'x.yaml');
        // The model directory an example names is the reader's own: stand one in.
        const model = isMap(example.model) && typeof example.model.path === 'string' ? example.model.path : undefined;
        if (model) mkdirSync(resolve(dir, model), { recursive: true });
        // So are the data files it names: one record with the fields its options name (validate reads every record).
        const ds = isMap(example.dataset) ? example.dataset : {};
        const corpus = isMap(ds.corpus) ? ds.corpus.path : ds.corpus;
        const field = (k: string, d?: string) => (typeof ds[k] === 'string' ? (ds[k] as string) : d);
        const splitField = isMap(example.splitter) && typeof example.splitter.field === 'string' ? example.splitter.field : undefined;
        const query = Object.fromEntries([[field('input', 'input')!, 'a query'], [field('expected', 'expected')!, 'a document'], ...[field('label'), splitField].filter((k) => k !== undefined).map((k) => [k, 'train'])]);
        // The data's own negatives, pair score and teacher values, when the example names their fields.
        for (const f of typeof ds.negatives === 'string' ? [ds.negatives] : Array.isArray(ds.negatives) ? (ds.negatives as string[]) : []) query[f] = 'a document';
        for (const f of [field('score'), field('teacher')]) if (f !== undefined) (query as Record<string, unknown>)[f] = 0.5;
        const spec = isMap(ds.corpus) ? ds.corpus : {};
        // A corpus stand-in also holds the reference data's categories: a file the example inherits (eval from configs/_base) expects them.
        const categories = (JSON.parse(readFileSync(join(TRANSACTIONS, 'categories.json'), 'utf8')) as Array<{ category: string }>).map((c) => c.category);
        const documents = ['a document', ...categories].map((d) => Object.fromEntries([[typeof spec.text === 'string' ? spec.text : 'text', d], ...(typeof spec.id === 'string' ? [[spec.id, d]] : [])]));
        // A folder corpus (a path ending in "/"): one file, its id its name, which the queries expect.
        if (typeof corpus === 'string' && corpus.endsWith('/')) {
          const ext = String(Array.isArray(spec.extensions) ? spec.extensions[0] : '.txt').replace(/^\.?/, '.');
          query[field('expected', 'expected')!] = `a document${ext}`;
          mkdirSync(resolve(dir, corpus), { recursive: true });
          writeFileSync(resolve(dir, corpus, `a document${ext}`), 'a document');
        }
        for (const [f, records] of [[ds.queries, [query]], [ds.eval, [query]], [corpus, documents]] as const) {
          if (typeof f !== 'string' || f.includes('${') || f.endsWith('/')) continue;
          mkdirSync(dirname(resolve(dir, f)), { recursive: true });
          writeFileSync(resolve(dir, f), f.endsWith('.json') ? JSON.stringify(records) : records.map((r) => JSON.stringify(r)).join('\n') + '\n');
        }
        // …and those of its evaluation sets (evaluate.sets): a query of the set and its document.
        const sets = isMap(example.evaluate) && isMap(example.evaluate.sets) ? Object.values(example.evaluate.sets).filter(isMap) : [];
        for (const set of sets) {
          const setCorpus = isMap(set.corpus) ? set.corpus.path : set.corpus;
          for (const [f, record] of [[set.queries, { input: 'a set query', expected: 'a set document' }], [set.eval, { input: 'a set query', expected: 'a set document' }], [setCorpus, { text: 'a set document' }]] as const) {
            if (typeof f !== 'string' || f.includes('${')) continue;
            mkdirSync(dirname(resolve(dir, f)), { recursive: true });
            writeFileSync(resolve(dir, f), f.endsWith('.json') ? JSON.stringify([record]) : JSON.stringify(record) + '\n');
          }
        }
        writeFileSync(file, stringify(example.extends ? example : merge(BASE, example)));
        process.env.FTRUN_DATA = TRANSACTIONS; // configs/_base/transactions.yaml reads its data from there
        process.env.BRAINTRUST_API_KEY ??= 'docs-example'; // validate checks that the braintrust dataset has a key
        const r = await cli(['validate', file]);
        expect(r.stderr, `${relative(ROOT, page)} example ${i + 1}:\n${block}`).toMatch(/: valid( \(sweep of \d+ trials\))?\n$/);
        expect(r.code).toBe(0);
      });
    });
  }
});
