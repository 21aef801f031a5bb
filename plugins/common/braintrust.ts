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
}

/** The SDK, a state of our own for `appUrl`, and `abort()`, which cuts off every request it sends. */
export async function connect(key: string, appUrl?: string): Promise<Connection> {
  const sdk = await import('braintrust');
  const abort = new AbortController();
  const fetchWithSignal: typeof fetch = (input, init) => fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, abort.signal]) : abort.signal });
  const url = appUrlOf(appUrl);
  const state = new sdk.BraintrustState({ apiKey: key, appUrl: url, fetch: fetchWithSignal });
  return { sdk, state, abort: () => abort.abort(), appUrl: url };
}

/** The SDK's dataset handle for `target`, and a function that gives up on everything it sends. */
export async function openDataset(target: BraintrustTarget, key: string, opts: { version?: string } = {}) {
  const { sdk, state, abort, appUrl } = await connect(key, target.appUrl);
  const dataset = sdk.initDataset({ project: target.project, dataset: target.name, apiKey: key, appUrl, state, ...(opts.version ? { version: opts.version } : {}) });
  return { dataset, abort, appUrl };
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
