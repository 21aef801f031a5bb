/**
 * A local stand-in for an OpenAI-compatible chat-completions server on 127.0.0.1, for the
 * `generate` dataset's tests. Every POST …/chat/completions is answered as `script` says for that
 * request (its number from 1, the prompt, and how many earlier requests carried the same prompt):
 * an answer with the given content (and usage counts), an HTTP status (with Retry-After), no answer
 * at all, or a raw body (malformed JSON, no choices). It counts requests, records the
 * Authorization headers and the prompts, and the most requests it held at once.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Reply =
  | { answer: string; usage?: boolean }
  | { status: number; retryAfter?: string; body?: string }
  | { hang: true }
  | { raw: string };

export interface LlmRequest {
  /** 1 for the first request the server got. */
  n: number;
  /** The user message. */
  prompt: string;
  /** Earlier requests with the same prompt (0 for the first). */
  repeat: number;
  model: string;
}

export interface LlmServer {
  /** The base_url to configure: `http://127.0.0.1:<port>/v1`. */
  baseUrl: string;
  /** Chat-completions requests received. */
  readonly requests: number;
  /** The most requests in progress at once. */
  readonly maxInFlight: number;
  authorizations: Array<string | undefined>;
  prompts: string[];
  /** Replace how the next requests are answered. */
  script: (req: LlmRequest) => Reply;
  close(): Promise<void>;
}

/**
 * `delayMs`: how long each answer waits before it is sent. `holdUntil`: answers wait until that
 * many requests are in progress at once (or 5 s have passed), so that a client allowed that many
 * concurrent requests is seen to send them, whatever the machine's load.
 */
export async function startLlmServer(script: (req: LlmRequest) => Reply, opts: { delayMs?: number; holdUntil?: number } = {}): Promise<LlmServer> {
  let requests = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let held: Array<() => void> = [];
  const releaseHeld = () => {
    for (const r of held) r();
    held = [];
  };
  const seen = new Map<string, number>();
  const state = { authorizations: [] as Array<string | undefined>, prompts: [] as string[], script };
  const server: Server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    if (req.method !== 'POST' || !(req.url ?? '').endsWith('/v1/chat/completions')) {
      res.statusCode = 404;
      return void res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
    }
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let ended = false;
    const end = () => {
      if (!ended) inFlight--;
      ended = true;
    };
    res.on('close', end);
    const n = ++requests;
    state.authorizations.push(req.headers.authorization);
    const parsed = JSON.parse(body) as { model: string; messages: Array<{ content: string }> };
    const prompt = parsed.messages[0]!.content;
    state.prompts.push(prompt);
    const repeat = seen.get(prompt) ?? 0;
    seen.set(prompt, repeat + 1);
    const reply = state.script({ n, prompt, repeat, model: parsed.model });
    if ('hang' in reply) return; // never answer (the client's timeout ends it)
    if (opts.holdUntil !== undefined) {
      const wait = new Promise<void>((r) => held.push(r));
      if (inFlight >= opts.holdUntil) releaseHeld();
      await Promise.race([wait, new Promise((r) => setTimeout(r, 5000))]);
    }
    await new Promise((r) => setTimeout(r, opts.delayMs ?? 0));
    if ('status' in reply) {
      res.statusCode = reply.status;
      if (reply.retryAfter !== undefined) res.setHeader('retry-after', reply.retryAfter);
      return void res.end(reply.body ?? JSON.stringify({ error: { message: `status ${reply.status}` } }));
    }
    res.setHeader('content-type', 'application/json');
    if ('raw' in reply) return void res.end(reply.raw);
    const usage = reply.usage === false ? {} : { usage: { prompt_tokens: prompt.split(/\s+/).length, completion_tokens: reply.answer.split(/\s+/).length, total_tokens: 0 } };
    res.end(JSON.stringify({ id: `chatcmpl-${n}`, object: 'chat.completion', model: parsed.model, choices: [{ index: 0, message: { role: 'assistant', content: reply.answer }, finish_reason: 'stop' }], ...usage }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return requests;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    authorizations: state.authorizations,
    prompts: state.prompts,
    get script() {
      return state.script;
    },
    set script(s) {
      state.script = s;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The document text of a prompt rendered from the default template (between its two ----- lines). */
export function documentOf(prompt: string): string {
  const m = /-{21}\n([\s\S]*?)\n-{21}/.exec(prompt);
  return m ? m[1]! : prompt;
}
