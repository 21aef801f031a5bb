/**
 * End to end: `ftrun configs/bge.yaml` with the fixture model reproduces what sentence-transformers
 * computes (retrieval.json): all six metrics within 1e-6 and the same top-5 per query, with the
 * lancedb store and with the memory store; and the run directory follows the contract.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { cli, tempDir } from '../helpers/cli.js';
import { FIXTURE_DIR, ROOT, TINY_BERT, describeShared } from '../helpers/shared.js';

interface Retrieval {
  metrics: Record<string, number>;
  per_query: Array<{ expected: string[]; top5: string[] }>;
}

const BGE = join(ROOT, 'configs', 'bge.yaml');

describeShared('ftrun run configs/bge.yaml (fixture model, sentence-transformers parity)', () => {
  const reference = JSON.parse(readFileSync(join(FIXTURE_DIR, 'retrieval.json'), 'utf8')) as Retrieval;

  for (const store of ['lancedb', 'memory']) {
    it(`reproduces retrieval.json with store ${store}`, async () => {
      const runs = tempDir();
      const r = await cli([
        'run', BGE, '--runs-dir', runs, '--json', '--quiet',
        '--set', `model={path: ${TINY_BERT}}`, '--set', `store.type=${store}`,
        '--set', 'backend={type: ort}', '--set', 'training={method: none}', '--set', 'evaluate.compare=[base]',
      ]);
      expect(r.stderr).not.toMatch(/error/i);
      expect(r.code).toBe(0);
      const summary = JSON.parse(r.stdout) as { run_dir: string; status: string; models: Record<string, Record<string, number>> };
      expect(summary.status).toBe('ok');
      const base = summary.models.base!;
      for (const [key, value] of Object.entries(reference.metrics)) {
        expect(Math.abs(base[key]! - value), key).toBeLessThan(1e-6);
      }
      const lines = readFileSync(join(summary.run_dir, 'per_query.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines).toHaveLength(66);
      lines.forEach((line, i) => {
        expect(line.model).toBe('base');
        expect(line.expected).toEqual(reference.per_query[i]!.expected);
        expect(line.top.slice(0, 5).map((h: { id: string }) => h.id)).toEqual(reference.per_query[i]!.top5);
      });

      // The run directory contract.
      const files = readdirSync(summary.run_dir).sort();
      for (const f of ['env.json', 'events.jsonl', 'metrics.json', 'per_query.jsonl', 'report.md', 'resolved.yaml']) expect(files).toContain(f);
      expect(files.filter((f) => f.includes('.tmp'))).toEqual([]);
      const metrics = JSON.parse(readFileSync(join(summary.run_dir, 'metrics.json'), 'utf8'));
      expect(metrics.primary).toBe('mrr@1');
      expect(metrics.status).toBe('ok');
      expect(metrics.models.base['mrr@1']).toBeCloseTo(reference.metrics['mrr@1']!, 9);
      const env = JSON.parse(readFileSync(join(summary.run_dir, 'env.json'), 'utf8'));
      expect(env.status).toBe('ok');
      expect(env.encoders.base.backend).toBe('ort');
      expect(Object.keys(env.timings)).toEqual(expect.arrayContaining(['dataset', 'split', 'mine', 'evaluate_base']));
      const resolved = parseYaml(readFileSync(join(summary.run_dir, 'resolved.yaml'), 'utf8'));
      expect(resolved.store.type).toBe(store);
      expect(resolved.model.path).toBe(TINY_BERT);
      expect(resolved.splitter).toEqual({ type: 'ratio', test: 0.2, shuffle: false, stratify: false });
      const events = readFileSync(join(summary.run_dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(events[0].type).toBe('run_start');
      expect(events.at(-1).type).toBe('run_end');
      expect(events.find((e) => e.type === 'split')).toMatchObject({ train: 208, test: 52, eval: 66, corpus: 27 });
      if (store === 'lancedb') expect(existsSync(join(summary.run_dir, 'lancedb'))).toBe(true);
    });
  }
});
