/**
 * A client of an OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, llama.cpp's server,
 * Ollama): `POST {base_url}/chat/completions` with one user message, the answer's first choice.
 *
 * Each request has its own timeout (AbortSignal.timeout(timeout_s)) and follows the run's signal
 * (Ctrl-C). A 429, a 5xx, a timeout or a lost connection is retried `retries` times, waiting
 * min(30 s, 0.5 s · 2^attempt) with full jitter, or the server's Retry-After when it says longer
 * (capped at 120 s); any other 4xx is final (a wrong key, model or URL does not get better).
 * The API key is sent as `Authorization: Bearer …` and never appears in a message.
 */

export interface LlmOptions {
  base_url: string;
  model: string;
  api_key?: string;
  temperature: number;
  max_tokens: number;
  timeout_s: number;
  concurrency: number;
  retries: number;
}

/** One answer: the first choice's text (undefined when the answer has none) and the tokens the server counted. */
export interface Completion {
  /** The message content; undefined when the answer is not the expected JSON (`malformed` says why). */
  content?: string;
  malformed?: string;
  promptTokens?: number;
  completionTokens?: number;
}

/** Why a request failed for good: the endpoint, what happened at the last attempt, how many attempts. */
export class LlmFailure extends Error {
  constructor(
    message: string,
    /** Retryable failures that ran out of retries (a server down or overloaded), as opposed to a refusal (4xx). */
    readonly exhausted: boolean,
  ) {
    super(message);
    this.name = 'LlmFailure';
  }
}

/** Aborted by the run's signal (Ctrl-C): not a failure of the server. */
export class LlmAborted extends Error {}

const BACKOFF_BASE_S = 0.5;
const BACKOFF_MAX_S = 30;
const RETRY_AFTER_MAX_S = 120;

/** The chat-completions URL of `base_url` (a trailing slash is dropped). */
export const chatUrl = (baseUrl: string): string => `${baseUrl.replace(/\/+$/, '')}/chat/completions`;

/** Seconds a Retry-After header asks for (a number of seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const s = Number(header.trim());
  if (Number.isFinite(s)) return Math.max(0, s);
  const t = Date.parse(header);
  return Number.isNaN(t) ? undefined : Math.max(0, (t - now) / 1000);
}

/** The wait before retry `attempt` (0-based): full jitter over the exponential step, or Retry-After when longer. */
export function backoffSeconds(attempt: number, retryAfter: number | undefined, random = Math.random): number {
  const step = Math.min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** attempt);
  const jittered = random() * step;
  return retryAfter !== undefined ? Math.max(jittered, Math.min(retryAfter, RETRY_AFTER_MAX_S)) : jittered;
}

/** Text of a server's answer for a message: one line, at most 200 characters, the key (if it shows) hidden. */
function excerpt(text: string, key: string | undefined): string {
  let t = text.replace(/\s+/g, ' ').trim();
  if (key) t = t.split(key).join('***');
  return t.length > 200 ? t.slice(0, 199) + '…' : t;
}

/** Reads one chat-completions answer: the first choice's message content, and the usage counts. */
export function readCompletion(body: string): Completion {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { malformed: 'the answer is not JSON' };
  }
  const o = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const usage = (typeof o.usage === 'object' && o.usage !== null ? o.usage : {}) as Record<string, unknown>;
  const counts: Completion = {
    ...(typeof usage.prompt_tokens === 'number' ? { promptTokens: usage.prompt_tokens } : {}),
    ...(typeof usage.completion_tokens === 'number' ? { completionTokens: usage.completion_tokens } : {}),
  };
  const choices = o.choices;
  if (!Array.isArray(choices) || choices.length === 0) return { ...counts, malformed: 'the answer has no choices' };
  const first = choices[0] as Record<string, unknown> | null;
  const message = (typeof first === 'object' && first !== null ? first.message : undefined) as Record<string, unknown> | undefined;
  const content = typeof message === 'object' && message !== null ? message.content : undefined;
  if (typeof content !== 'string') return { ...counts, malformed: 'the first choice has no message content' };
  return { ...counts, content };
}

export class LlmClient {
  readonly url: string;

  constructor(
    private readonly o: LlmOptions,
    private readonly signal: AbortSignal,
    /** Told before each retry (for the progress line and the counts). */
    private readonly onRetry: (why: string) => void = () => {},
  ) {
    this.url = chatUrl(o.base_url);
  }

  /** One completion of `prompt`, retried as the module comment says; LlmFailure when it cannot be had, LlmAborted on the run's signal. */
  async complete(prompt: string): Promise<Completion> {
    const body = JSON.stringify({
      model: this.o.model,
      messages: [{ role: 'user', content: prompt }],
      temperature: this.o.temperature,
      max_tokens: this.o.max_tokens,
      stream: false,
    });
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.o.api_key) headers.authorization = `Bearer ${this.o.api_key}`;
    const attempts = this.o.retries + 1;
    let last = '';
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (this.signal.aborted) throw new LlmAborted('interrupted');
      let retryAfter: number | undefined;
      // The request's own timer (AbortSignal.timeout composed with AbortSignal.any may be collected
      // before it fires on Node 20), cleared when the answer is read; the run's signal aborts it too.
      const request = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        request.abort();
      }, this.o.timeout_s * 1000);
      const onAbort = () => request.abort();
      this.signal.addEventListener('abort', onAbort, { once: true });
      try {
        let res: Response;
        let text: string;
        try {
          res = await fetch(this.url, { method: 'POST', headers, body, signal: request.signal });
          text = await res.text();
        } finally {
          clearTimeout(timer);
          this.signal.removeEventListener('abort', onAbort);
        }
        if (res.ok) return readCompletion(text);
        const what = `HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}${text.trim() ? `: ${excerpt(text, this.o.api_key)}` : ''}`;
        if (res.status !== 429 && res.status < 500) throw new LlmFailure(`${this.url} answered ${what}${hint(res.status)}`, false);
        last = `the last answer was ${what}`;
        retryAfter = retryAfterSeconds(res.headers.get('retry-after'));
      } catch (e) {
        if (e instanceof LlmFailure) throw e;
        if (this.signal.aborted) throw new LlmAborted('interrupted');
        const err = e as Error & { cause?: { code?: string; message?: string } };
        last = timedOut ? `the last request got no answer within timeout_s ${this.o.timeout_s}` : `the last request failed: ${err.cause?.code ?? err.cause?.message ?? err.message}`;
      }
      if (attempt + 1 < attempts) {
        this.onRetry(last);
        await sleep(backoffSeconds(attempt, retryAfter) * 1000, this.signal);
      }
    }
    throw new LlmFailure(`no usable answer from ${this.url} after ${attempts} attempt${attempts === 1 ? '' : 's'} (timeout_s ${this.o.timeout_s} each, retries ${this.o.retries}): ${last}`, true);
  }
}

/** What to check after a final 4xx. */
function hint(status: number): string {
  if (status === 401 || status === 403) return ' (check dataset.llm.api_key)';
  if (status === 404) return ' (check dataset.llm.base_url, which ends before /chat/completions, and dataset.llm.model)';
  return '';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new LlmAborted('interrupted'));
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new LlmAborted('interrupted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
