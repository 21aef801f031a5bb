/**
 * Corpus sources of the record datasets (issue 19: "a folder of documents and no queries at all";
 * generate's `corpus: <any corpus spec>`): a folder of .txt/.md files (recursive, sorted, hidden
 * ones skipped, `extensions`), a CSV/TSV or Parquet corpus file (`text`/`id` columns), each with
 * located errors, and what `ftrun validate` (check()) says of them.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { userErrorOf, withDefaults as withSchemaDefaults } from '../../helpers/plugin-options.js';
import type { CheckContext } from '../../../core/types.js';
import { corpusProblems, folderFiles } from '../../../plugins/common/corpus.js';
import { readCorpus } from '../../../plugins/common/records.js';
import CsvDataset from '../../../plugins/dataset/csv.js';
import HfDataset from '../../../plugins/dataset/hf.js';
import JsonlDataset from '../../../plugins/dataset/jsonl.js';
import ParquetDataset from '../../../plugins/dataset/parquet.js';
import { cli } from '../../helpers/cli.js';
import { makeContext } from '../../helpers/context.js';

const dir = mkdtempSync(join(tmpdir(), 'ftrun-corpus-'));
const ctx = makeContext({ baseDir: dir });
const checkCtx: CheckContext = { resolvePath: ctx.resolvePath } as CheckContext;
const write = (rel: string, content: string | Buffer) => {
  mkdirSync(join(dir, rel, '..'), { recursive: true });
  writeFileSync(join(dir, rel), content);
};

// docs/: documents at two levels, a BOM, an upper-case extension, hidden files and folders, other
// extensions, a link to a file outside (followed) and a link to a folder (not followed: a loop).
write('docs/setup.md', '# Setup\nInstall it.\n');
write('docs/guides/billing.txt', '\uFEFFBilling: invoices are monthly.');
write('docs/guides/Refunds.TXT', 'Refunds take five days.');
write('docs/.hidden.txt', 'hidden');
write('docs/.git/notes.txt', 'hidden folder');
write('docs/notes.rst', 'Notes in reST.');
write('docs/image.png', 'not text');
write('outside.txt', 'Linked from outside.');
symlinkSync(join(dir, 'outside.txt'), join(dir, 'docs', 'linked.txt'));
symlinkSync(join(dir, 'docs'), join(dir, 'docs', 'guides', 'loop'));
mkdirSync(join(dir, 'empty'));
write('others/a.pdf', '%PDF');
write('others/b.pdf', '%PDF');
write('others/c.html', '<p>');
write('binary/a.txt', Buffer.from([0x66, 0x6f, 0xff, 0xfe, 0x00]));
mkdirSync(join(dir, 'broken'));
symlinkSync(join(dir, 'nowhere.txt'), join(dir, 'broken', 'gone.txt'));
write('q.jsonl', [{ input: 'how do I pay', expected: 'guides/billing.txt' }, { input: 'install', expected: 'setup.md' }].map((r) => JSON.stringify(r)).join('\n') + '\n');
write('q.csv', 'input,expected\nhow do I pay,a\ninstall,b\n');
write('docs.csv', 'key,body\na,"Alpha, the first"\nb,Beta text\n');
write('docs.tsv', 'body\tkey\nAlpha\ta\nBeta\tb\n');
write('dup.csv', 'key,body\na,one\nb,two\na,three\n');
write('noid.csv', 'key,body\n,one\n');
write('header.csv', 'key,body\n');
parquetWriteFile({
  filename: join(dir, 'docs.parquet'),
  columnData: [
    { name: 'doc_id', data: [7n, 8n], type: 'INT64' },
    { name: 'content', data: ['Seven', 'Eight'], type: 'STRING' },
  ],
});
parquetWriteFile({
  filename: join(dir, 'nulls.parquet'),
  columnData: [
    { name: 'doc_id', data: [1n, 2n], type: 'INT64' },
    { name: 'content', data: ['One', null], type: 'STRING' },
  ],
});

type Plugin = typeof CsvDataset | typeof ParquetDataset | typeof JsonlDataset | typeof HfDataset;
/** Options as the config layer delivers them: validated, defaults filled. */
const withDefaults = (plugin: Plugin, o: Record<string, unknown>): never => withSchemaDefaults<never>(plugin.schema, o);
const load = (plugin: Plugin, o: Record<string, unknown>) => new plugin(withDefaults(plugin, o), ctx).load();
const failure = userErrorOf;
const check = (plugin: Plugin, o: Record<string, unknown>) => plugin.check!(withDefaults(plugin, o), checkCtx);

describe('a folder corpus', () => {
  it('is every .txt and .md file under it, sorted by its path there (the id), hidden ones skipped, links to files followed', async () => {
    const data = await load(JsonlDataset, { queries: 'q.jsonl', corpus: 'docs' });
    expect(data.corpus).toEqual([
      { id: 'guides/Refunds.TXT', text: 'Refunds take five days.' },
      { id: 'guides/billing.txt', text: 'Billing: invoices are monthly.' },
      { id: 'linked.txt', text: 'Linked from outside.' },
      { id: 'setup.md', text: '# Setup\nInstall it.\n' },
    ]);
    expect(data.queries.map((q) => q.relevant)).toEqual([['guides/billing.txt'], ['setup.md']]);
  });

  it('extensions chooses the files (with or without the dot, any case)', async () => {
    expect(folderFiles(join(dir, 'docs'), ['rst', '.MD'])).toEqual(['notes.rst', 'setup.md']);
    const docs = await readCorpus(join(dir, 'docs'), 'text', undefined, ['.rst']);
    expect(docs).toEqual([{ id: 'notes.rst', text: 'Notes in reST.' }]);
  });

  it('the extensions option is validated by the schema', () => {
    expect(() => withDefaults(JsonlDataset, { queries: 'q.jsonl', corpus: { path: 'docs', extensions: ['*.txt'] } })).toThrow('must match pattern');
    expect(() => withDefaults(JsonlDataset, { queries: 'q.jsonl', corpus: { path: 'docs', extensions: [] } })).toThrow('must NOT have fewer than 1 items');
  });

  it('without documents, names the folder, the extensions looked for and the files found', async () => {
    expect((await failure(load(JsonlDataset, { queries: 'q.jsonl', corpus: 'empty' }))).message).toBe(
      `dataset.corpus: no .txt or .md files in ${join(dir, 'empty')} (no files found; hidden files and folders are skipped; dataset.corpus.extensions chooses the extensions)`,
    );
    expect((await failure(load(JsonlDataset, { queries: 'q.jsonl', corpus: 'others' }))).message).toBe(
      `dataset.corpus: no .txt or .md files in ${join(dir, 'others')} (files found: 2 .pdf, 1 .html; hidden files and folders are skipped; dataset.corpus.extensions chooses the extensions)`,
    );
    expect((await failure(load(CsvDataset, { queries: 'q.csv', corpus: { path: 'docs', extensions: ['adoc', '.tex', 'ORG'] } }))).message).toBe(
      `dataset.corpus: no .adoc, .tex or .org files in ${join(dir, 'docs')} (files found: 3 .txt, 1 .md, 1 .png, 1 .rst; hidden files and folders are skipped; dataset.corpus.extensions chooses the extensions)`,
    );
  });

  it('a file that is not UTF-8 text, or a link to nothing, is E_FILE naming it', async () => {
    const binary = await failure(readCorpus(join(dir, 'binary'), 'text', undefined));
    expect(binary.code).toBe('E_FILE');
    expect(binary.message).toBe(`dataset.corpus: cannot read ${join(dir, 'binary', 'a.txt')}: not UTF-8 text`);
    const broken = await failure(readCorpus(join(dir, 'broken'), 'text', undefined));
    expect(broken.code).toBe('E_FILE');
    expect(broken.message).toBe(`dataset.corpus: cannot read ${join(dir, 'broken', 'gone.txt')}: ENOENT: no such file or directory, stat '${join(dir, 'broken', 'gone.txt')}'`);
  });
});

describe('a CSV/TSV or Parquet corpus file', () => {
  it('is one document a row: text and id name its columns (CSV, TSV by extension, Parquet with an INT64 id)', async () => {
    const csv = await load(CsvDataset, { queries: 'q.csv', corpus: { path: 'docs.csv', text: 'body', id: 'key' } });
    expect(csv.corpus).toEqual([
      { id: 'a', text: 'Alpha, the first' },
      { id: 'b', text: 'Beta text' },
    ]);
    expect(await readCorpus(join(dir, 'docs.tsv'), 'body', undefined)).toEqual([
      { id: 'Alpha', text: 'Alpha' },
      { id: 'Beta', text: 'Beta' },
    ]);
    expect(await readCorpus(join(dir, 'docs.parquet'), 'content', 'doc_id')).toEqual([
      { id: '7', text: 'Seven' },
      { id: '8', text: 'Eight' },
    ]);
  });

  it('a column the options name that is not there is an error at dataset.corpus.text / .id with did-you-mean', async () => {
    expect((await failure(load(JsonlDataset, { queries: 'q.jsonl', corpus: { path: 'docs.csv', text: 'bdy', id: 'key' } }))).message).toBe(
      `dataset.corpus.text: no column "bdy" in ${join(dir, 'docs.csv')}. Did you mean "body"? Columns: key, body`,
    );
    expect((await failure(readCorpus(join(dir, 'docs.parquet'), 'content', 'docid'))).message).toBe(
      `dataset.corpus.id: no column "docid" in ${join(dir, 'docs.parquet')}. Did you mean "doc_id"? Columns: doc_id, content`,
    );
  });

  it('row errors are located at file:row N: duplicate ids, an empty id, a null text, no rows', async () => {
    expect((await failure(readCorpus(join(dir, 'dup.csv'), 'body', 'key'))).message).toBe(`${join(dir, 'dup.csv')}:row 3: duplicate document id "a" (first at row 1)`);
    expect((await failure(readCorpus(join(dir, 'noid.csv'), 'body', 'key'))).message).toBe(`${join(dir, 'noid.csv')}:row 1: column "key" is empty`);
    expect((await failure(readCorpus(join(dir, 'nulls.parquet'), 'content', 'doc_id'))).message).toBe(`${join(dir, 'nulls.parquet')}:row 2: column "content" must be a string, got null`);
    expect((await failure(readCorpus(join(dir, 'header.csv'), 'body', 'key'))).message).toBe(`${join(dir, 'header.csv')}: no records`);
  });

  it('expected labels are checked against its ids', async () => {
    const lines = (await failure(load(CsvDataset, { queries: 'q.csv', corpus: { path: 'docs.tsv', text: 'body', id: 'key' }, expected: 'input' }))).message.split('\n');
    expect(lines[0]).toBe(`dataset.corpus: 2 expected labels are not in the corpus (${join(dir, 'docs.tsv')}, 2 documents):`);
  });
});

describe('check() (ftrun validate) of every corpus form', () => {
  it('accepts a folder and CSV/Parquet files (a folder is no longer "not a regular file")', () => {
    expect(check(JsonlDataset, { queries: 'q.jsonl', corpus: 'docs' })).toEqual([]);
    expect(check(CsvDataset, { queries: 'q.csv', corpus: { path: 'docs.csv', text: 'body', id: 'key' } })).toEqual([]);
    expect(check(ParquetDataset, { queries: 'docs.parquet', input: 'content', expected: 'content', corpus: { path: 'docs', extensions: ['rst'] } })).toEqual([]);
    expect(check(JsonlDataset, { queries: 'q.jsonl', corpus: { path: 'docs.parquet', text: 'content', id: 'doc_id' } })).toEqual([]);
  });

  it("checks a folder's ids against the expected labels (jsonl reads every record)", () => {
    write('q2.jsonl', JSON.stringify({ input: 'x', expected: 'Setup.md' }) + '\n');
    expect(check(JsonlDataset, { queries: 'q2.jsonl', corpus: 'docs' })).toEqual([
      { path: ['corpus'], message: `1 expected label is not in the corpus (${join(dir, 'docs')}, 4 documents):\n    ${join(dir, 'q2.jsonl')}:1: "Setup.md" (did you mean "setup.md"?)` },
    ]);
  });

  it('reports an empty folder, text/id for a folder, extensions for a file, and a missing column, each at its option', () => {
    expect(check(CsvDataset, { queries: 'q.csv', corpus: 'empty' })).toEqual([
      { path: ['corpus'], message: `no .txt or .md files in ${join(dir, 'empty')} (no files found; hidden files and folders are skipped; dataset.corpus.extensions chooses the extensions)` },
    ]);
    expect(check(JsonlDataset, { queries: 'q.jsonl', corpus: { path: 'docs', text: 'body' } })).toEqual([
      { path: ['corpus', 'text'], message: `names a field of a corpus file (JSON, JSONL, CSV, TSV or Parquet), but ${join(dir, 'docs')} is a folder: its documents are its files, each file's path in the folder its id` },
    ]);
    expect(check(ParquetDataset, { queries: 'docs.parquet', input: 'content', expected: 'content', corpus: { path: 'docs.csv', text: 'body', extensions: ['txt'] } })).toEqual([
      { path: ['corpus', 'extensions'], message: `chooses the files of a folder corpus, but ${join(dir, 'docs.csv')} is a file` },
    ]);
    expect(check(CsvDataset, { queries: 'q.csv', corpus: { path: 'docs.csv', text: 'bdy', id: 'kye' } })).toEqual([
      { path: ['corpus', 'text'], message: `no column "bdy" in ${join(dir, 'docs.csv')}. Did you mean "body"? Columns: key, body` },
      { path: ['corpus', 'id'], message: `no column "kye" in ${join(dir, 'docs.csv')}. Did you mean "key"? Columns: key, body` },
    ]);
    expect(check(JsonlDataset, { queries: 'q.jsonl', corpus: { path: 'docs.parquet', text: 'body' } })).toEqual([
      { path: ['corpus', 'text'], message: `no column "body" in ${join(dir, 'docs.parquet')}. Columns: doc_id, content` },
    ]);
    expect(corpusProblems('missing', checkCtx).problems).toEqual([{ path: ['corpus'], message: `file not found: ${join(dir, 'missing')}` }]);
  });

  it('hf checks its local corpus as the others do (no request to the hub)', () => {
    expect(check(HfDataset, { id: 'org/name', corpus: 'docs' })).toEqual([]);
    expect(check(HfDataset, { id: 'org/name', corpus: { path: 'others', id: 'key' } })).toEqual([
      { path: ['corpus', 'id'], message: `names a field of a corpus file (JSON, JSONL, CSV, TSV or Parquet), but ${join(dir, 'others')} is a folder: its documents are its files, each file's path in the folder its id` },
      { path: ['corpus', 'path'], message: `no .txt or .md files in ${join(dir, 'others')} (files found: 2 .pdf, 1 .html; hidden files and folders are skipped; dataset.corpus.extensions chooses the extensions)` },
    ]);
    expect(check(HfDataset, { id: 'org/name', corpus: 'missing.jsonl' })).toEqual([{ path: ['corpus'], message: `file not found: ${join(dir, 'missing.jsonl')}` }]);
  });

  it('ftrun validate locates a folder problem in the experiment file', async () => {
    write('x.yaml', `name: x\nmodel: { id: BAAI/bge-small-en-v1.5 }\ndataset:\n  type: jsonl\n  queries: q.jsonl\n  corpus:\n    path: docs\n    text: body\n`);
    write('y.yaml', `name: y\nmodel: { id: BAAI/bge-small-en-v1.5 }\ndataset:\n  type: jsonl\n  queries: q.jsonl\n  corpus: empty\n`);
    write('z.yaml', `name: z\nmodel: { id: BAAI/bge-small-en-v1.5 }\ndataset:\n  type: jsonl\n  queries: q.jsonl\n  corpus: docs\n`);
    const z = await cli(['validate', join(dir, 'z.yaml')]);
    expect(z.stderr).toBe(`${join(dir, 'z.yaml')}: valid\n`);
    expect(z.code).toBe(0);
    const x = await cli(['validate', join(dir, 'x.yaml')]);
    expect(x.code).toBe(2);
    expect(x.stderr).toBe(
      `error[E_CONFIG]: Config is not valid, found 1 problem:\n  ${join(dir, 'x.yaml')}:8:11 dataset.corpus.text: names a field of a corpus file (JSON, JSONL, CSV, TSV or Parquet), but ${join(dir, 'docs')} is a folder: its documents are its files, each file's path in the folder its id\n`,
    );
    const y = await cli(['validate', join(dir, 'y.yaml')]);
    expect(y.code).toBe(2);
    expect(y.stderr).toBe(
      `error[E_CONFIG]: Config is not valid, found 1 problem:\n  ${join(dir, 'y.yaml')}:6:11 dataset.corpus: no .txt or .md files in ${join(dir, 'empty')} (no files found; hidden files and folders are skipped; dataset.corpus.extensions chooses the extensions)\n`,
    );
  });
});
