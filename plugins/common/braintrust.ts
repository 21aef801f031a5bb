/**
 * Talking to Braintrust, for the `braintrust` sink and dataset and `ftrun dataset push`: an SDK
 * state of our own (not the SDK's global one) whose every request can be cut off, a time bound on
 * the work, and the API key from the environment only (BRAINTRUST_API_KEY).
 */
import { UserError } from '../../core/errors.js';

export interface BraintrustTarget {
  project: string;
  name: string;
  appUrl?: string;
}

export const appUrlOf = (appUrl?: string) => appUrl ?? process.env.BRAINTRUST_APP_URL ?? 'https://www.braintrust.dev';

export function apiKey(what: string): string {
  const key = process.env.BRAINTRUST_API_KEY;
  if (!key) throw new UserError('E_CONFIG', `${what}: BRAINTRUST_API_KEY is not set (the key comes from the environment only)`);
  return key;
}

export interface Connection {
  sdk: typeof import('braintrust');
  state: import('braintrust').BraintrustState;
  /** Cuts off every request sent through `state`. */
  abort(): void;
  appUrl: string;
  /**
   * What the SDK's background sender could not send since the last call (it retries, then drops
   * the rows and only tells its `onFlushError`; its flush() resolves either way), as one line
   * each (describeFailure).
   */
  takeFlushErrors(): string[];
}

/** The SDK, a state of our own for `appUrl`, and `abort()`, which cuts off every request it sends. */
export async function connect(key: string, appUrl?: string): Promise<Connection> {
  const sdk = await import('braintrust');
  const abort = new AbortController();
  const fetchWithSignal: typeof fetch = (input, init) => fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, abort.signal]) : abort.signal });
  const url = appUrlOf(appUrl);
  let errors: string[] = [];
  const state = new sdk.BraintrustState({
    apiKey: key,
    appUrl: url,
    fetch: fetchWithSignal,
    noExitFlush: true,
    onFlushError: (e) => void errors.push(redact(describeFailure(e, url), key)),
  });
  const takeFlushErrors = () => {
    const out = errors;
    errors = [];
    return out;
  };
  return { sdk, state, abort: () => abort.abort(), appUrl: url, takeFlushErrors };
}

/** The SDK's dataset handle for `target`, and a function that gives up on everything it sends. */
export async function openDataset(target: BraintrustTarget, key: string, opts: { version?: string } = {}) {
  const bt = await connect(key, target.appUrl);
  const dataset = bt.sdk.initDataset({ project: target.project, dataset: target.name, apiKey: key, appUrl: bt.appUrl, state: bt.state, ...(opts.version ? { version: opts.version } : {}) });
  return { dataset, abort: bt.abort, appUrl: bt.appUrl, takeFlushErrors: bt.takeFlushErrors };
}

/**
 * One line saying what went wrong talking to the server at `url`: an HTTP status (the SDK's
 * FailedHTTPResponse), an answer that is not JSON, or no answer.
 */
export function describeFailure(e: unknown, url: string): string {
  const oneLine = (x: string) => {
    const t = x.replace(/\s+/g, ' ').trim();
    return t.length > 200 ? t.slice(0, 199) + '…' : t;
  };
  const http = e as { status?: unknown; text?: unknown; data?: unknown };
  if (e instanceof Error && typeof http.status === 'number') {
    const data = typeof http.data === 'string' && http.data.trim() ? `: ${oneLine(http.data)}` : '';
    return `${url} answered HTTP ${http.status}${typeof http.text === 'string' && http.text ? ` (${http.text})` : ''}${data}`;
  }
  if (e instanceof SyntaxError) return `${url} answered something that is not JSON (${oneLine(e.message)})`;
  const message = e instanceof Error ? e.message : String(e);
  // The sender's own error after its retries: "log request failed. … Payload size: N. Retrying\nError: <what>".
  const sent = /^log request failed\.[\s\S]*?\nError: ([\s\S]*)$/.exec(message);
  if (sent) {
    const status = /^(\d{3}) \(([^)]*)\): ([\s\S]*)$/.exec(sent[1]!);
    if (status) return `${url} answered HTTP ${status[1]}${status[2] ? ` (${status[2]})` : ''}${status[3]!.trim() ? `: ${oneLine(status[3]!)}` : ''}`;
    if (/SyntaxError|not valid JSON|Unexpected token/.test(sent[1]!)) return `${url} answered something that is not JSON (${oneLine(sent[1]!)})`;
    return `no usable answer from ${url}: ${oneLine(sent[1]!)}`;
  }
  const code = (e as { cause?: { code?: unknown } })?.cause?.code;
  return `no usable answer from ${url}: ${oneLine(message)}${typeof code === 'string' ? ` (${code})` : ''}`;
}

/** `text` with the API key, should it appear, replaced by ***. */
export function redact(text: string, key: string): string {
  return key ? text.split(key).join('***') : text;
}

/** Run `work`, giving up (and cutting off its requests) after `seconds`. */
export async function within<T>(seconds: number, abort: () => void, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort();
      reject(new Error(`no answer within ${seconds} s`));
    }, seconds * 1000);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
