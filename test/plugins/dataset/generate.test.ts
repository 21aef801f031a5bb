/**
 * dataset `generate` against a local stand-in of an OpenAI-compatible server
 * (test/helpers/llm-server.ts): the cache (a second run asks nothing), 429 then success, a server
 * that never answers (a bounded E_LLM error; what was answered stays cached and a rerun asks only
 * for the rest), malformed answers (skipped, counted, asked again), the concurrency limit, the
 * filters' counts; and the pieces: reading an answer as a query, chunking, Retry-After.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { userErrorOf, withDefaults as withSchemaDefaults } from '../../helpers/plugin-options.js';
import { makeProgress } from '../../../core/log.js';
import GenerateDatasetPlugin, { GenerateDataset, type GenerateDatasetOptions } from '../../../plugins/dataset/generate.js';
import { chunkCorpus, chunkText } from '../../../plugins/dataset/generate/chunk.js';
import { backoffSeconds, readCompletion, retryAfterSeconds } from '../../../plugins/dataset/generate/llm.js';
import { describeCounts } from '../../../plugins/dataset/generate/generate-queries.js';
import { parseQuery, renderPrompt } from '../../../plugins/dataset/generate/prompt.js';
import { makeContext } from '../../helpers/context.js';
import { documentOf, startLlmServer, type LlmServer, type Reply } from '../../helpers/llm-server.js';

const DOCS = [
  { id: 'd1', text: 'Invoices are paid within thirty days of receipt.' },
  { id: 'd2', text: 'Travel expenses need a receipt and a manager approval.' },
  { id: 'd3', text: 'Software licences are renewed by the IT department each year.' },
];

let servers: LlmServer[] = [];
afterEach(async () => {
  for (const s of servers) await s.close();
  servers = [];
});

async function server(script: (r: { n: number; prompt: string; repeat: number }) => Reply, opts: { delayMs?: number; holdUntil?: number } = {}): Promise<LlmServer> {
  const s = await startLlmServer(script, opts);
  servers.push(s);
  return s;
}

/** A query for a prompt: the document's first two words and the sample's number. */
const answerFor = (prompt: string, repeat = 0): string => {
  const doc = documentOf(prompt);
  const sample = /query (\d+) of/.exec(prompt)?.[1];
  return `${doc.split(' ').slice(0, 2).join(' ').toLowerCase()} question ${sample} take ${repeat}`;
};

function setup(extra: Record<string, unknown> = {}, llm: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ftrun-gen-'));
  writeFileSync(join(dir, 'docs.jsonl'), DOCS.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const raw = { corpus: { path: 'docs.jsonl', id: 'id' }, queries_per_document: 2, cache_dir: join(dir, 'cache'), llm: { model: 'stand-in', retries: 1, timeout_s: 30, ...llm }, ...extra };
  return { dir, raw };
}

/** Options as the config layer delivers them: validated, defaults filled. */
const withDefaults = (o: Record<string, unknown>): GenerateDatasetOptions => withSchemaDefaults<GenerateDatasetOptions>(GenerateDatasetPlugin.schema, o);

function dataset(dir: string, raw: Record<string, unknown>, baseUrl: string) {
  const ctx = makeContext({ baseDir: dir, runDir: mkdtempSync(join(dir, 'run-')) });
  const o = withDefaults({ ...raw, llm: { ...(raw.llm as object), base_url: baseUrl } });
  return { ds: new GenerateDataset(o, ctx), ctx };
}

const failure = userErrorOf;

describe('dataset generate against a stand-in server', () => {
  it('writes one query per document and sample, caches them, and a second run asks nothing', async () => {
    const s = await server(({ prompt }) => ({ answer: answerFor(prompt) }));
    const { dir, raw } = setup();
    const first = dataset(dir, raw, s.baseUrl);
    const data = await first.ds.load();
    expect(s.requests).toBe(6);
    expect(data.queries.map((q) => [q.text, q.relevant])).toEqual([
      ['invoices are question 1 take 0', ['d1']],
      ['invoices are question 2 take 0', ['d1']],
      ['travel expenses question 1 take 0', ['d2']],
      ['travel expenses question 2 take 0', ['d2']],
      ['software licences question 1 take 0', ['d3']],
      ['software licences question 2 take 0', ['d3']],
    ]);
    expect(data.corpus).toEqual(DOCS);
    const lines = readFileSync(join(first.ctx.runDir, 'generated.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({ input: 'invoices are question 1 take 0', expected: ['d1'], sample: 1 });
    expect(lines).toHaveLength(6);
    expect(first.ds.info()).toMatchObject({ type: 'generate', model: 'stand-in', base_url: s.baseUrl, documents: 3, chunks: 3, requests: 6, retries: 0, cache_hits: 0, generated: 6, malformed: 0, queries: 6 });
    expect((first.ds.info() as { prompt_tokens: number }).prompt_tokens).toBeGreaterThan(0);

    // The second run: every answer from the cache, the same queries.
    const second = dataset(dir, raw, s.baseUrl);
    const again = await second.ds.load();
    expect(s.requests).toBe(6);
    expect(again.queries.map((q) => q.text)).toEqual(data.queries.map((q) => q.text));
    expect(second.ds.info()).toMatchObject({ requests: 0, cache_hits: 6, generated: 0, prompt_tokens: 0 });

    // Another model is another key: asked again.
    const third = dataset(dir, { ...raw, llm: { ...(raw.llm as object), model: 'other' } }, s.baseUrl);
    await third.ds.load();
    expect(s.requests).toBe(12);
  });

  it('the progress line shows the running counts of requests, tokens, cache hits and malformed answers', async () => {
    const s = await server(({ n, prompt }) => (n === 1 ? { raw: '{}' } : { answer: answerFor(prompt) }));
    const { dir, raw } = setup({}, { concurrency: 1 });
    let drawn = '';
    const progress = makeProgress({ quiet: false, verbose: false, tty: true, write: (t) => (drawn += t) });
    const ctx = makeContext({ baseDir: dir, progress });
    await new GenerateDataset(withDefaults({ ...raw, llm: { ...(raw.llm as object), base_url: s.baseUrl } }), ctx).load();
    const last = drawn.trimEnd().split('\r').at(-1)!;
    expect(last).toMatch(/^generating queries \[#{24}\] 6\/6 [\d.]+\/s 6 requests, \d+\+\d+ tokens, 0 cached, 1 malformed$/);
  });

  it('a 429 with Retry-After, then an answer: retried, counted', async () => {
    const s = await server(({ prompt, repeat }) => (repeat === 0 ? { status: 429, retryAfter: '0' } : { answer: answerFor(prompt) }));
    const { dir, raw } = setup();
    const { ds } = dataset(dir, raw, s.baseUrl);
    const data = await ds.load();
    expect(data.queries).toHaveLength(6);
    expect(s.requests).toBe(12);
    expect(ds.info()).toMatchObject({ requests: 12, retries: 6, generated: 6 });
  });

  it('a 500 after its retries is E_LLM naming the URL, the attempts and the answer', async () => {
    const s = await server(() => ({ status: 500, body: 'the GPU fell over' }));
    const { dir, raw } = setup({}, { concurrency: 1 });
    const e = await failure(dataset(dir, raw, s.baseUrl).ds.load());
    expect(e.code).toBe('E_LLM');
    expect(e.message).toBe(
      `dataset.llm: no usable answer from ${s.baseUrl}/chat/completions after 2 attempts (timeout_s 30 each, retries 1): the last answer was HTTP 500 Internal Server Error: the GPU fell over. ` +
        `0 of 6 generations are cached in ${join(dir, 'cache')} (0 answered this time); once the server answers, run again: only the rest are asked for`,
    );
    expect(s.requests).toBe(2);
  });

  it('a server that stops answering: a bounded E_LLM error, what was answered stays cached, the rerun asks only for the rest', async () => {
    const s = await server(({ n, prompt }) => (n <= 2 ? { answer: answerFor(prompt) } : { hang: true }));
    const { dir, raw } = setup({}, { concurrency: 1, timeout_s: 0.3, retries: 1 });
    const e = await failure(dataset(dir, raw, s.baseUrl).ds.load());
    expect(e.code).toBe('E_LLM');
    expect(e.message).toBe(
      `dataset.llm: no usable answer from ${s.baseUrl}/chat/completions after 2 attempts (timeout_s 0.3 each, retries 1): the last request got no answer within timeout_s 0.3. ` +
        `2 of 6 generations are cached in ${join(dir, 'cache')} (2 answered this time); once the server answers, run again: only the rest are asked for`,
    );
    expect(s.requests).toBe(4);
    s.script = ({ prompt }) => ({ answer: answerFor(prompt) });
    const { ds } = dataset(dir, raw, s.baseUrl);
    const data = await ds.load();
    expect(s.requests).toBe(4 + 4);
    expect(ds.info()).toMatchObject({ cache_hits: 2, generated: 4, requests: 4 });
    expect(data.queries.map((q) => q.text).slice(0, 2)).toEqual(['invoices are question 1 take 0', 'invoices are question 2 take 0']);
  });

  it('Ctrl-C (the run signal) ends a request that is waiting for its answer', async () => {
    const ac = new AbortController();
    const s = await server(() => {
      setTimeout(() => ac.abort(), 50);
      return { hang: true };
    });
    const { dir, raw } = setup({}, { concurrency: 1, timeout_s: 600 });
    const ctx = makeContext({ baseDir: dir, signal: ac.signal });
    const o = withDefaults({ ...raw, llm: { ...(raw.llm as object), base_url: s.baseUrl } });
    await expect(new GenerateDataset(o, ctx).load()).rejects.toThrow(/^interrupted while generating queries$/);
    expect(s.requests).toBe(1);
  });

  it('malformed answers are skipped, counted and not cached', async () => {
    const bad: Reply[] = [{ raw: 'not json {' }, { raw: '{"choices": []}' }, { answer: '   ' }, { answer: Array(80).fill('word').join(' ') }];
    const s = await server(({ n, prompt }) => bad[n - 1] ?? { answer: `1. "${answerFor(prompt)}"` });
    const { dir, raw } = setup({}, { concurrency: 1 });
    const { ds } = dataset(dir, raw, s.baseUrl);
    const data = await ds.load();
    expect(ds.info()).toMatchObject({ requests: 6, malformed: 4, generated: 2, queries: 2 });
    // The numbering and quotes are stripped.
    expect(data.queries.map((q) => q.text)).toEqual(['software licences question 1 take 0', 'software licences question 2 take 0']);
    // Asked again next time, and answered.
    const next = dataset(dir, raw, s.baseUrl);
    await next.ds.load();
    expect(next.ds.info()).toMatchObject({ requests: 4, cache_hits: 2, malformed: 0, generated: 4 });
  });

  it('never more requests in flight than llm.concurrency', async () => {
    // Answers are held until 3 requests are in progress: a client allowed more sends more meanwhile.
    const s = await server(({ prompt }) => ({ answer: answerFor(prompt) }), { holdUntil: 3 });
    const { dir, raw } = setup({ queries_per_document: 4 }, { concurrency: 3 });
    await dataset(dir, raw, s.baseUrl).ds.load();
    expect(s.requests).toBe(12);
    expect(s.maxInFlight).toBe(3);
  });

  it('sends the key as a Bearer token; a refusal names the status and hides the key', async () => {
    const key = 'sk-test-do-not-leak-42';
    const s = await server(() => ({ status: 401, body: `{"error": "invalid key ${key}"}` }));
    const { dir, raw } = setup({}, { api_key: key, concurrency: 1 });
    const e = await failure(dataset(dir, raw, s.baseUrl).ds.load());
    expect(s.authorizations).toEqual([`Bearer ${key}`]);
    expect(e.message).toBe(
      `dataset.llm: ${s.baseUrl}/chat/completions answered HTTP 401 Unauthorized: {"error": "invalid key ***"} (check dataset.llm.api_key). ` +
        `0 of 6 generations are cached in ${join(dir, 'cache')} (0 answered this time); fix the request and run again: only the rest are asked for`,
    );
  });

  it('the filters remove duplicates and copies of the document, and say how many', async () => {
    // d1's two samples are the same query; d2's copies ten words of its document.
    const s = await server(({ prompt }) => {
      const doc = documentOf(prompt);
      if (doc.startsWith('Invoices')) return { answer: 'When are invoices paid?' };
      if (doc.startsWith('Travel') && prompt.includes('query 1 of')) return { answer: 'travel expenses need a receipt and a manager approval' };
      return { answer: answerFor(prompt) };
    });
    const { dir, raw } = setup({ filters: { copied_span: 5 } });
    const { ds } = dataset(dir, raw, s.baseUrl);
    const data = await ds.load();
    expect(data.queries.map((q) => q.text)).toEqual(['When are invoices paid?', 'travel expenses question 2 take 0', 'software licences question 1 take 0', 'software licences question 2 take 0']);
    expect(ds.info()).toMatchObject({ queries: 4, filters: { duplicates: 1, near_duplicates: 0, copied_span: 1 } });
  });

  it('real eval queries are read against the corpus; a long document is chunked and its chunks are the corpus', async () => {
    const s = await server(({ prompt }) => ({ answer: answerFor(prompt) }));
    const { dir, raw } = setup({ chunk: { max_words: 5, overlap: 1 }, queries_per_document: 1, eval: 'eval.jsonl' });
    writeFileSync(join(dir, 'eval.jsonl'), '{"input": "when do we pay", "expected": "d1"}\n{"input": "who renews licences", "expected": ["d3"]}\n');
    const { ds, ctx } = dataset(dir, raw, s.baseUrl);
    const data = await ds.load();
    expect(data.corpus.map((d) => d.id)).toEqual(['d1#1', 'd1#2', 'd2#1', 'd2#2', 'd3#1', 'd3#2', 'd3#3']);
    expect(data.corpus[0]).toEqual({ id: 'd1#1', text: 'Invoices are paid within thirty' });
    expect(data.corpus[1]).toEqual({ id: 'd1#2', text: 'thirty days of receipt.' });
    expect(data.eval!.map((q) => [q.text, q.relevant])).toEqual([
      ['when do we pay', ['d1#1', 'd1#2']],
      ['who renews licences', ['d3#1', 'd3#2', 'd3#3']],
    ]);
    expect(data.queries.map((q) => q.relevant[0])).toEqual(data.corpus.map((d) => d.id));
    expect(readFileSync(join(ctx.runDir, 'generated_corpus.jsonl'), 'utf8').split('\n')[0]).toBe('{"id":"d1#1","text":"Invoices are paid within thirty"}');
  });

  it('an eval query naming no corpus document is E_DATA naming its line', async () => {
    const s = await server(({ prompt }) => ({ answer: answerFor(prompt) }));
    const { dir, raw } = setup({ eval: 'eval.jsonl' });
    writeFileSync(join(dir, 'eval.jsonl'), '{"input": "when do we pay", "expected": "d9"}\n');
    const e = await failure(dataset(dir, raw, s.baseUrl).ds.load());
    expect(e.message).toBe(`dataset.corpus: 1 expected label is not in the corpus (${join(dir, 'docs.jsonl')}, 3 documents):\n  ${join(dir, 'eval.jsonl')}:1: "d9" (did you mean "d1"?)`);
    expect(s.requests).toBe(0);
    expect(existsSync(join(dir, 'cache'))).toBe(false);
  });
});

describe('generate: eval fields', () => {
  it('an eval record without the input field names dataset.eval.input', async () => {
    const s = await server(({ prompt }) => ({ answer: answerFor(prompt) }));
    const { dir, raw } = setup({ eval: { path: 'eval.jsonl', expected: 'doc' } });
    writeFileSync(join(dir, 'eval.jsonl'), '{"question": "when do we pay", "doc": "d1"}\n');
    const e = await failure(dataset(dir, raw, s.baseUrl).ds.load());
    expect(e.message).toBe(`${join(dir, 'eval.jsonl')}:1: missing field "input" (fields present: question, doc); set dataset.eval.input to use another field`);
    // …and with it set, the record is read.
    const ok = dataset(dir, { ...raw, eval: { path: 'eval.jsonl', input: 'question', expected: 'doc' } }, s.baseUrl);
    expect((await ok.ds.load()).eval!.map((q) => [q.text, q.relevant])).toEqual([['when do we pay', ['d1']]]);
  });
});

describe('generate: validation', () => {
  it('check() names a missing corpus, a prompt without {document} and an overlap as large as the chunk', () => {
    const { dir, raw } = setup({ corpus: 'nope.jsonl', prompt: 'Write a query.', chunk: { max_words: 8, overlap: 8 } });
    const o = withDefaults({ ...raw, llm: { ...(raw.llm as object), base_url: 'http://localhost:1/v1' } });
    const ctx = makeContext({ baseDir: dir });
    expect(GenerateDatasetPlugin.check!(o as unknown as Record<string, unknown>, { resolvePath: ctx.resolvePath, sampleRecord: () => undefined })).toEqual([
      { path: ['corpus'], message: `file not found: ${join(dir, 'nope.jsonl')}` },
      { path: ['prompt'], message: 'the prompt has no {document} placeholder (where the document text goes); placeholders: {document}, {index}, {n}' },
      { path: ['chunk', 'overlap'], message: 'must be less than chunk.max_words (8), got 8' },
    ]);
  });

  it('check() names a base_url that is not an http(s) URL (the schema cannot: the editor sees ${env:…} uninterpolated)', () => {
    const { dir, raw } = setup();
    const ctx = { resolvePath: makeContext({ baseDir: dir }).resolvePath, sampleRecord: () => undefined };
    const problems = (base_url: string) => GenerateDatasetPlugin.check!(withDefaults({ ...raw, llm: { ...(raw.llm as object), base_url } }) as unknown as Record<string, unknown>, ctx);
    expect(problems('localhost:11434/v1')).toEqual([
      { path: ['llm', 'base_url'], message: '"localhost:11434/v1" is not an http:// or https:// URL; e.g. http://localhost:11434/v1 (Ollama), http://localhost:8000/v1 (vLLM), https://api.openai.com/v1' },
    ]);
    expect(problems('https://api.openai.com/v1')).toEqual([]);
  });
});

describe('generate: the pieces', () => {
  it('an answer is read as one query: reasoning, labels, numbering and quotes stripped; essays and empties are not queries', () => {
    expect(parseQuery('<think>hmm, a query about invoices</think>\nQuery: "when are invoices paid?"')).toEqual({ query: 'when are invoices paid?' });
    expect(parseQuery('1. travel receipt rules\n2. another one')).toEqual({ query: 'travel receipt rules' });
    expect(parseQuery('- `licence renewal`')).toEqual({ query: 'licence renewal' });
    expect(parseQuery('**Search query:** adobe subscription')).toEqual({ query: 'adobe subscription' });
    expect(parseQuery('\n  \n')).toEqual({ malformed: 'the answer is empty' });
    expect(parseQuery('""')).toEqual({ malformed: 'the answer holds no query' });
    expect(parseQuery(Array(65).fill('w').join(' '))).toEqual({ malformed: 'the answer is not a query (65 words; at most 64)' });
  });

  it('readCompletion: the first choice, the usage; why an answer is malformed', () => {
    expect(readCompletion('{"choices":[{"message":{"content":"q"}}],"usage":{"prompt_tokens":7,"completion_tokens":2}}')).toEqual({ content: 'q', promptTokens: 7, completionTokens: 2 });
    expect(readCompletion('<html>')).toEqual({ malformed: 'the answer is not JSON' });
    expect(readCompletion('{"choices":[]}')).toEqual({ malformed: 'the answer has no choices' });
    expect(readCompletion('{"choices":[{"message":{}}]}')).toEqual({ malformed: 'the first choice has no message content' });
  });

  it('the counts line: plurals, retries and tokens only when there are some', () => {
    const c = { wanted: 3, requests: 1, retries: 0, prompt_tokens: 0, completion_tokens: 0, cache_hits: 2, generated: 1, malformed: 0 };
    expect(describeCounts(c)).toBe('1 request, 2 cached, 0 malformed');
    expect(describeCounts({ ...c, requests: 3, retries: 1, prompt_tokens: 40, completion_tokens: 5 })).toBe('3 requests (1 retry), 40+5 tokens, 2 cached, 0 malformed');
    expect(describeCounts({ ...c, requests: 4, retries: 2 })).toBe('4 requests (2 retries), 2 cached, 0 malformed');
  });

  it('prompt placeholders', () => {
    expect(renderPrompt('{document} ({index}/{n}) {other}', { document: 'D', index: 2, n: 3 })).toBe('D (2/3) {other}');
  });

  it('chunks: a short document whole, a long one in overlapping windows ending at its last word', () => {
    expect(chunkText('a b c', { max_words: 3, overlap: 1 })).toEqual(['a b c']);
    expect(chunkText('a b c d e f g', { max_words: 3, overlap: 1 })).toEqual(['a b c', 'c d e', 'e f g']);
    expect(chunkText('a b c d e f g h', { max_words: 4, overlap: 0 })).toEqual(['a b c d', 'e f g h']);
    const { chunks, of } = chunkCorpus([{ id: 'x', text: 'a b c d' }, { id: 'y', text: 'e' }], { max_words: 3, overlap: 1 });
    expect(chunks).toEqual([{ id: 'x#1', text: 'a b c' }, { id: 'x#2', text: 'c d' }, { id: 'y', text: 'e' }]);
    expect([...of]).toEqual([['x', ['x#1', 'x#2']], ['y', ['y']]]);
    expect(() => chunkCorpus([{ id: 'x', text: 'a b c d' }, { id: 'x#2', text: 'e' }], { max_words: 3, overlap: 1 })).toThrow(
      'dataset.chunk: document "x" (2 chunks of chunk.max_words 3 words) would have a chunk "x#2", which is another document\'s id; rename that document or raise chunk.max_words',
    );
  });

  it('Retry-After in seconds or as a date; the backoff honours it and is capped', () => {
    expect(retryAfterSeconds('3')).toBe(3);
    expect(retryAfterSeconds(new Date(10_000).toUTCString(), 4_000)).toBe(6);
    expect(retryAfterSeconds(null)).toBeUndefined();
    expect(retryAfterSeconds('soon')).toBeUndefined();
    expect(backoffSeconds(0, undefined, () => 1)).toBe(0.5);
    expect(backoffSeconds(3, undefined, () => 0.5)).toBe(2);
    expect(backoffSeconds(20, undefined, () => 1)).toBe(30);
    expect(backoffSeconds(0, 7, () => 1)).toBe(7);
    expect(backoffSeconds(0, 1000, () => 1)).toBe(120);
  });
});
