import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/load.js';
import { validateConfig } from '../../core/config/validate.js';
import { UserError } from '../../core/errors.js';
import { fakeRegistry } from './fakes.js';

const INVALID = 'test/fixtures/config/invalid';
const VALID = 'test/fixtures/config/valid';

function validationError(file: string, sets: string[] = []): UserError {
  try {
    validateConfig(loadConfig(file, { sets, env: {} }), fakeRegistry());
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error(`${file}: expected a UserError`);
}

/** Each invalid fixture carries its expected problems: `# expect: <line>`, `# set: <flag>`, `# code: <code>`. */
describe('invalid fixtures report exactly their expected problems', () => {
  const files = readdirSync(INVALID).filter((f) => f.endsWith('.yaml'));
  for (const f of files) {
    const text = readFileSync(`${INVALID}/${f}`, 'utf8');
    const expected = [...text.matchAll(/^# expect: (.*)$/gm)].map((m) => m[1]!);
    if (expected.length === 0) continue;
    it(f, () => {
      const sets = [...text.matchAll(/^# set: (.*)$/gm)].map((m) => m[1]!);
      const code = /^# code: (\S+)$/m.exec(text)?.[1] ?? 'E_CONFIG';
      const e = validationError(`${INVALID}/${f}`, sets);
      expect(e.code).toBe(code);
      const n = expected.length;
      expect(e.message).toBe([`Config is not valid, found ${n} problem${n === 1 ? '' : 's'}:`, ...expected.map((l) => '  ' + l)].join('\n'));
    });
  }
});

describe('validateConfig', () => {
  it('fills in the defaults of the core sections and of plugin options', () => {
    const cfg = validateConfig(loadConfig(`${VALID}/minimal.yaml`, { env: {} }), fakeRegistry());
    expect(cfg).toEqual({
      name: 'minimal',
      seed: 42,
      plugins: [],
      dataset: { type: 'jsonl', queries: 'data/queries.jsonl' },
      splitter: { type: 'none' },
      miner: { type: 'none' },
      model: { path: './model', query_prompt: '', document_prompt: '' }, // no hub revision: not a hub model
      backend: { type: 'ort' },
      training: { method: 'none' },
      evaluate: {
        compare: ['base'],
        metrics: ['mrr', 'recall', 'ndcg', 'map', 'precision', 'hit'],
        k: [1, 3, 5],
        primary: 'mrr@1',
      },
      store: { type: 'memory' },
      sinks: [{ type: 'console' }, { type: 'json' }, { type: 'markdown' }, { type: 'html' }],
    });
  });

  it('fills plugin option defaults inside given entries and keeps given values', () => {
    const loaded = loadConfig(`${VALID}/full.yaml`, { env: {}, sets: ['loss={type: batch-semi-hard-triplet}'] });
    const cfg = validateConfig(loaded, fakeRegistry());
    expect(cfg.splitter).toEqual({ type: 'ratio', test: 0.25, stratify: false });
    expect(cfg.backend).toEqual({ type: 'tfjs', device: 'cpu' });
    expect(cfg.loss).toEqual({ type: 'batch-semi-hard-triplet', margin: 5, distance: 'euclidean' });
    expect(cfg.evaluate).toEqual({ compare: ['base'], metrics: ['mrr', 'recall'], k: [1, 10], primary: 'recall@10' });
    expect(cfg.model).toEqual({
      id: 'org/model', revision: 'v1', query_prompt: 'query: ', document_prompt: '', pooling: 'mean', normalize: true, max_seq_length: 128,
    });
    // the loaded data is left untouched
    expect(loaded.data.splitter).toEqual({ type: 'ratio', test: 0.25 });
  });

  it('reports problems from an extended file at their own file:line:col, --set ones at --set', () => {
    const e = validationError('test/fixtures/config/extends/bad-child.yaml', ['model.pooling=avg']);
    expect(e.message).toBe(
      [
        'Config is not valid, found 2 problems:',
        '  test/fixtures/config/extends/bad-base.yaml:5:3 dataset.corpuss: unknown option "corpuss". Did you mean "corpus"? Allowed: corpus, eval, queries.',
        '  --set model.pooling: invalid value "avg". Allowed: cls, mean, max.',
      ].join('\n'),
    );
  });

  it('reports an unknown type when the registry lacks a default plugin', () => {
    const r = fakeRegistry().clone();
    const bare = new (r.constructor as typeof import('../../core/registry.js').Registry)({ dataset: { jsonl: r.get('dataset', 'jsonl')! } });
    let msg = '';
    try {
      validateConfig(loadConfig(`${VALID}/minimal.yaml`, { env: {} }), bare);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg.split('\n')).toContain(`  ${VALID}/minimal.yaml splitter.type: unknown splitter plugin "none". Available: (none).`);
  });

  it("keeps a section's default plugin when only options of that plugin are written", () => {
    const loaded = loadConfig(`${VALID}/minimal.yaml`, { env: {}, sets: ['store={}', 'backend.threads=2'] });
    const r = fakeRegistry().clone();
    const cfg = validateConfig(loaded, r);
    expect(cfg.store).toEqual({ type: 'memory' });
    expect(cfg.backend).toEqual({ type: 'ort', threads: 2 });
    // options the default plugin does not have: the type is missing, not guessed
    expect(validationError(`${VALID}/minimal.yaml`, ['splitter.test=0.5']).message).toContain('--set splitter: missing required option "type" (the splitter plugin)');
  });

  it('leaves options that would have no effect out of the resolved config, and gives each method its learning rate', () => {
    const cfg = (sets: string[]) => validateConfig(loadConfig(`${VALID}/minimal.yaml`, { env: {}, sets: ['miner.type=labelled', 'loss.type=batch-semi-hard-triplet', 'backend.type=tfjs', ...sets] }), fakeRegistry());
    const adapter = cfg(['training={method: adapter}']).training as Record<string, unknown>;
    expect(adapter.learning_rate).toBe(2e-3);
    expect(adapter.adapter).toEqual({ kind: 'linear', apply_to: 'query' }); // no hidden width: a linear adapter has none
    expect(adapter).not.toHaveProperty('samples_per_label'); // batch_sampler is no-duplicates
    const full = cfg(['training={method: full, batch_sampler: group-by-label}']).training as Record<string, unknown>;
    expect(full).toMatchObject({ learning_rate: 2e-5, samples_per_label: 2 });
    expect(full).not.toHaveProperty('adapter');
    expect(cfg([]).training).toEqual({ method: 'none' });
  });

  it('compares base and fine-tuned by default when the method trains, base alone when it does not', () => {
    const cfg = (sets: string[]) => validateConfig(loadConfig(`${VALID}/minimal.yaml`, { env: {}, sets: ['miner.type=labelled', 'loss.type=batch-semi-hard-triplet', 'backend.type=tfjs', ...sets] }), fakeRegistry());
    expect(cfg(['training.method=full']).evaluate.compare).toEqual(['base', 'finetuned']);
    expect(cfg(['training.method=adapter']).evaluate.compare).toEqual(['base', 'finetuned']);
    expect(cfg([]).evaluate.compare).toEqual(['base']);
    expect(cfg(['training.method=full', 'evaluate.compare=[finetuned]']).evaluate.compare).toEqual(['finetuned']);
  });
});
