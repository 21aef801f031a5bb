/**
 * The `generate` dataset's corpus is any corpus spec (issue 19 §2: `corpus: <any corpus spec>`):
 * a folder of text files (its `extensions`) or a CSV corpus, read and checked as the record
 * datasets read and check theirs (plugins/common/corpus.ts); the queries come from a stand-in server.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configAjv } from '../../../core/config/ajv.js';
import type { CheckContext } from '../../../core/types.js';
import GenerateDatasetPlugin, { GenerateDataset, type GenerateDatasetOptions } from '../../../plugins/dataset/generate.js';
import { makeContext } from '../../helpers/context.js';
import { documentOf, startLlmServer } from '../../helpers/llm-server.js';

const dir = mkdtempSync(join(tmpdir(), 'ftrun-corpus-gen-'));
mkdirSync(join(dir, 'docs', 'guides'), { recursive: true });
writeFileSync(join(dir, 'docs', 'setup.md'), 'Setup: install it.\n');
writeFileSync(join(dir, 'docs', 'notes.rst'), 'Notes in reST.');
writeFileSync(join(dir, 'docs', 'guides', 'billing.txt'), 'Billing is monthly.');
mkdirSync(join(dir, 'empty'));
writeFileSync(join(dir, 'docs.csv'), 'key,body\na,Alpha\n');
const checkCtx = { resolvePath: makeContext({ baseDir: dir }).resolvePath } as CheckContext;
const llm = { base_url: 'http://127.0.0.1:9/v1', model: 'stand-in', retries: 0 };

/** Options as the config layer delivers them: validated, defaults filled. */
function withDefaults(o: Record<string, unknown>): GenerateDatasetOptions {
  const validate = configAjv({ allErrors: true, useDefaults: true }).compile(GenerateDatasetPlugin.schema);
  const copy = structuredClone(o);
  if (!validate(copy)) throw new Error(JSON.stringify(validate.errors));
  return copy as unknown as GenerateDatasetOptions;
}

describe('the generate dataset reads every corpus form', () => {
  it('writes queries for the documents of a folder (extensions choosing them), each query expecting its file', async () => {
    const server = await startLlmServer(({ prompt }) => ({ answer: `what about ${documentOf(prompt).split(' ')[0]!.toLowerCase()}` }));
    try {
      const o = withDefaults({ corpus: { path: 'docs', extensions: ['rst', 'md'] }, queries_per_document: 1, cache_dir: join(dir, 'cache'), llm: { ...llm, base_url: server.baseUrl } });
      const set = await new GenerateDataset(o, makeContext({ baseDir: dir })).generate();
      expect(set.data.corpus.map((d) => d.id)).toEqual(['notes.rst', 'setup.md']);
      expect(set.data.queries.map((q) => [q.text, q.relevant])).toEqual([
        ['what about notes', ['notes.rst']],
        ['what about setup:', ['setup.md']],
      ]);
    } finally {
      await server.close();
    }
  });

  it('check() reports a folder without documents and a CSV corpus column at their options', () => {
    const check = (o: Record<string, unknown>) => GenerateDatasetPlugin.check!(withDefaults(o) as never, checkCtx);
    expect(check({ corpus: 'empty', llm })).toEqual([
      { path: ['corpus'], message: `no .txt or .md files in ${join(dir, 'empty')} (no files found; hidden files and folders are skipped; dataset.corpus.extensions chooses the extensions)` },
    ]);
    expect(check({ corpus: { path: 'docs.csv', text: 'bdy' }, llm })).toEqual([
      { path: ['corpus', 'text'], message: `no column "bdy" in ${join(dir, 'docs.csv')}. Did you mean "body"? Columns: key, body` },
    ]);
    expect(check({ corpus: 'docs', llm })).toEqual([]);
  });
});
