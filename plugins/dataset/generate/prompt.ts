/**
 * The prompt that asks for one query, and how an answer is read as one.
 *
 * The template's placeholders: `{document}` (the document or chunk text, required), `{index}`
 * (this sample's number, 1 … queries_per_document) and `{n}` (queries_per_document). Other
 * braces are left as written. The default is in the style of LlamaIndex's
 * generate_qa_embedding_pairs and the bge fine-tuning tutorial, asking for one query an answer.
 */

export const DEFAULT_PROMPT = `Context information is below.

---------------------
{document}
---------------------

Given the context information and not prior knowledge, write one search query that a user could type into a search box to find this document (query {index} of {n}: make it different from the others).
The query must be short, realistic and self-contained; do not copy long phrases from the document.
Answer with the query only, on one line, without quotes, numbering or explanation.`;

/** The placeholders a template may use. */
export const PLACEHOLDERS = ['document', 'index', 'n'] as const;

/** `template` with its placeholders filled. */
export function renderPrompt(template: string, values: { document: string; index: number; n: number }): string {
  return template.replace(/\{(document|index|n)\}/g, (_, k: 'document' | 'index' | 'n') => String(values[k]));
}

/** Longest answer read as a query, in words. */
export const MAX_QUERY_WORDS = 64;

/**
 * The query in an answer, or why there is none. Read: reasoning (`<think>…</think>`) dropped; the
 * first non-empty line; a leading label (`Query:`, `Question:`, `Search query:`), numbering (`1.`,
 * `2)`, `-`, `*`) and surrounding quotes or backticks stripped. Not a query: nothing left, or more
 * than MAX_QUERY_WORDS words (an essay, not a query).
 */
export function parseQuery(content: string): { query: string } | { malformed: string } {
  const text = content.replace(/<think>[\s\S]*?(<\/think>|$)/gi, '');
  const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== '');
  if (line === undefined) return { malformed: 'the answer is empty' };
  let q = line;
  for (let i = 0; i < 3; i++) {
    const before = q;
    q = q
      .replace(/^(?:\*\*)?(?:search\s+)?(?:query|question)\s*\d*\s*(?:\*\*)?\s*[:：]\s*(?:\*\*)?/i, '')
      .replace(/^(?:\d+\s*[.)]|[-*•])\s+/, '')
      .replace(/^(["'“”‘’`]+)([\s\S]*?)(["'“”‘’`]+)$/, '$2')
      .trim();
    if (q === before) break;
  }
  if (q === '') return { malformed: 'the answer holds no query' };
  const words = q.split(/\s+/).length;
  if (words > MAX_QUERY_WORDS) return { malformed: `the answer is not a query (${words} words; at most ${MAX_QUERY_WORDS})` };
  return { query: q };
}
