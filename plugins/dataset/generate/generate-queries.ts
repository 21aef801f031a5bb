/**
 * Writing the queries: one request per (document chunk, sample index), answers read from the
 * generation cache first, at most `concurrency` requests in flight, each good answer cached as it
 * arrives. A request that fails for good (a refusal, or no answer after its retries) stops the
 * generation: no new request starts, those in flight finish (and are cached), and the failure is
 * an E_LLM error saying how much is cached; the next attempt asks only for the rest.
 */
import { UserError } from '../../../core/errors.js';
import { redactUrl } from '../../../core/url.js';
import type { Doc, RunContext } from '../../../core/types.js';
import { GenerationCache, generationKey } from './cache.js';
import { LlmAborted, LlmClient, LlmFailure, type LlmOptions } from './llm.js';
import { parseQuery, renderPrompt } from './prompt.js';

/** A generated query and the document (chunk) it was written from. */
export interface Candidate {
  text: string;
  /** The id of the document (chunk) it was written from: its relevant document. */
  source: string;
  sourceText: string;
  /** The sample index (0-based) among the document's queries. */
  sample: number;
}

/** The running counts of a generation (the progress line, the log line, env.json). */
export interface GenerationCounts {
  /** Generations wanted: chunks × queries_per_document. */
  wanted: number;
  /** HTTP requests sent, retries included. */
  requests: number;
  retries: number;
  prompt_tokens: number;
  completion_tokens: number;
  cache_hits: number;
  /** Good answers this attempt (now cached). */
  generated: number;
  /** Answers that held no query (skipped, not cached). */
  malformed: number;
}

export interface GenerateRequest {
  chunks: Doc[];
  llm: LlmOptions;
  prompt: string;
  queriesPerDocument: number;
  cache: GenerationCache;
  ctx: Pick<RunContext, 'signal' | 'progress' | 'logger'>;
}

/** The progress line's counts. */
export function describeCounts(c: GenerationCounts): string {
  const tokens = c.prompt_tokens + c.completion_tokens > 0 ? `, ${c.prompt_tokens}+${c.completion_tokens} tokens` : '';
  return `${c.requests} request${c.requests === 1 ? '' : 's'}${c.retries ? ` (${c.retries} ${c.retries === 1 ? 'retry' : 'retries'})` : ''}${tokens}, ${c.cache_hits} cached, ${c.malformed} malformed`;
}

/** Every chunk's queries (in chunk, then sample order), and the counts. */
export async function generateQueries(req: GenerateRequest): Promise<{ candidates: Candidate[]; counts: GenerationCounts }> {
  const { chunks, llm, cache, ctx } = req;
  const n = req.queriesPerDocument;
  const counts: GenerationCounts = { wanted: chunks.length * n, requests: 0, retries: 0, prompt_tokens: 0, completion_tokens: 0, cache_hits: 0, generated: 0, malformed: 0 };
  const slots: Array<Candidate | undefined> = new Array(counts.wanted);
  const todo: Array<{ slot: number; key: string; prompt: string; chunk: Doc; sample: number }> = [];
  chunks.forEach((chunk, c) => {
    for (let sample = 0; sample < n; sample++) {
      const prompt = renderPrompt(req.prompt, { document: chunk.text, index: sample + 1, n });
      const key = generationKey(llm.model, prompt, chunk.text, sample);
      const hit = cache.get(key);
      const slot = c * n + sample;
      if (hit) {
        counts.cache_hits++;
        slots[slot] = { text: hit.query, source: chunk.id, sourceText: chunk.text, sample };
      } else todo.push({ slot, key, prompt, chunk, sample });
    }
  });

  const bar = ctx.progress.start('generating queries', counts.wanted);
  let done = counts.cache_hits;
  bar.update(done, describeCounts(counts));
  const client = new LlmClient(llm, ctx.signal, () => {
    counts.requests++;
    counts.retries++;
    bar.update(done, describeCounts(counts));
  });
  let failure: unknown;
  let next = 0;
  const worker = async () => {
    while (failure === undefined && next < todo.length) {
      const t = todo[next++]!;
      try {
        const answer = await client.complete(t.prompt);
        counts.requests++;
        counts.prompt_tokens += answer.promptTokens ?? 0;
        counts.completion_tokens += answer.completionTokens ?? 0;
        const parsed = answer.content !== undefined ? parseQuery(answer.content) : { malformed: answer.malformed! };
        if ('query' in parsed) {
          cache.put(t.key, { model: llm.model, index: t.sample, query: parsed.query, raw: answer.content! });
          counts.generated++;
          slots[t.slot] = { text: parsed.query, source: t.chunk.id, sourceText: t.chunk.text, sample: t.sample };
        } else {
          counts.malformed++;
          ctx.logger.debug(`generate: a malformed answer for document ${t.chunk.id} (sample ${t.sample + 1}): ${parsed.malformed}`);
        }
      } catch (e) {
        if (e instanceof LlmFailure) counts.requests++;
        failure ??= e;
      }
      done++;
      bar.update(done, describeCounts(counts));
    }
  };
  await Promise.all(Array.from({ length: Math.min(llm.concurrency, todo.length) }, worker));
  bar.done();
  if (failure !== undefined) {
    if (failure instanceof LlmAborted) throw new Error('interrupted while generating queries');
    if (!(failure instanceof LlmFailure)) throw failure;
    const cached = counts.cache_hits + counts.generated;
    throw new UserError(
      'E_LLM',
      `dataset.llm: ${redactUrl(failure.message)}. ${cached} of ${counts.wanted} generations are cached in ${cache.dir} (${counts.generated} answered this time); ` +
        (failure.exhausted ? 'once the server answers, run again: only the rest are asked for' : 'fix the request and run again: only the rest are asked for'),
    );
  }
  return { candidates: slots.filter((s): s is Candidate => s !== undefined), counts };
}
