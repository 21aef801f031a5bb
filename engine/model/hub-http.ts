/**
 * What the Hugging Face hub clients share (models: engine/model/hub.ts; datasets:
 * plugins/dataset/hf/hub.ts): the cache directory, the endpoint, the token, the offline switches,
 * a GET that turns network failures into user errors, and atomic saves (a temp file, renamed
 * into place only when complete, so an interrupted download leaves nothing half-written).
 * Env: HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME, XDG_CACHE_HOME, HF_ENDPOINT, HF_TOKEN,
 * HF_HUB_OFFLINE, TRANSFORMERS_OFFLINE.
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError, type ErrorCode } from '../../core/errors.js';
import type { Progress } from '../../core/types.js';

export function hfCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HF_HOME ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huggingface');
  return env.HF_HUB_CACHE ?? env.HUGGINGFACE_HUB_CACHE ?? join(home, 'hub');
}

const truthy = (v: string | undefined): boolean => ['1', 'true', 'yes', 'on'].includes((v ?? '').toLowerCase());

/** `HF_HUB_OFFLINE=1` or `TRANSFORMERS_OFFLINE=1` (for messages) when either is set, else undefined. */
export function offlineSetting(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (truthy(env.HF_HUB_OFFLINE)) return 'HF_HUB_OFFLINE=1';
  if (truthy(env.TRANSFORMERS_OFFLINE)) return 'TRANSFORMERS_OFFLINE=1';
  return undefined;
}

/** HF_ENDPOINT without a trailing slash, else https://huggingface.co. */
export const hubEndpoint = (env: NodeJS.ProcessEnv = process.env): string => (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');

/** The request headers: HF_TOKEN as a bearer token when set. */
export const hubHeaders = (env: NodeJS.ProcessEnv = process.env): Record<string, string> => (env.HF_TOKEN ? { authorization: `Bearer ${env.HF_TOKEN}` } : {});

/** What the user should do about a 401/403: set a token, or that the one set was refused. */
export const tokenAdvice = (env: NodeJS.ProcessEnv = process.env): string => (env.HF_TOKEN ? 'HF_TOKEN is set but was refused' : 'set HF_TOKEN to a token with access');

/** The reason a fetch() failed at the network level: ECONNREFUSED, ENOTFOUND, … */
export function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error).message;
}

/** Whether `revision` is a commit sha (40 hex digits) rather than a branch or tag. */
export const isCommit = (revision: string): boolean => /^[0-9a-f]{40}$/.test(revision);

/** The commit `revision` names in cached repository `repoDir`: itself when a sha, else `refs/<revision>`'s content; undefined when not cached. */
export function cachedCommit(repoDir: string, revision: string): string | undefined {
  if (isCommit(revision)) return revision;
  const ref = join(repoDir, 'refs', revision);
  return existsSync(ref) ? readFileSync(ref, 'utf8').trim() : undefined;
}

/** GET `url` with the token; a network failure is `onNetworkError(reason)` (a UserError the caller words). */
export async function hubGet(url: string, signal: AbortSignal, onNetworkError: (reason: string, e: unknown) => Error): Promise<Response> {
  try {
    return await fetch(url, { headers: hubHeaders(), signal, redirect: 'follow' });
  } catch (e) {
    if (signal.aborted) throw e;
    throw onNetworkError(networkReason(e), e);
  }
}

export function writeAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.incomplete-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * The body of `res` saved at `dest` through a temp file beside it, renamed when complete, with a
 * progress bar `downloading <label>`; on failure the temp file is removed and the error is
 * `code`: `download of <label> failed: <reason>`.
 */
export async function saveAtomic(res: Response, dest: string, label: string, ctx: { progress: Progress; signal: AbortSignal }, code: ErrorCode = 'E_MODEL'): Promise<void> {
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = `${dest}.incomplete-${process.pid}-${Date.now()}`;
  const total = Number(res.headers.get('content-length') ?? 0);
  const bar = ctx.progress.start(`downloading ${label}`, total);
  let done = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      done += chunk.length;
      bar.update(done);
      cb(null, chunk);
    },
  });
  const file = createWriteStream(tmp);
  try {
    const body = res.body ? Readable.fromWeb(res.body as import('node:stream/web').ReadableStream) : Readable.from([]);
    await pipeline(body, count, file);
    renameSync(tmp, dest);
  } catch (e) {
    // The file is opened asynchronously: wait until it is closed, or it may appear after the removal.
    if (!file.closed) await new Promise<void>((r) => file.once('close', () => r()));
    rmSync(tmp, { force: true });
    if (e instanceof UserError || ctx.signal.aborted) throw e;
    throw new UserError(code, `download of ${label} failed: ${downloadReason(e)}`, { cause: e });
  } finally {
    bar.done();
  }
}

/** `terminated (other side closed)`: undici's error and its cause, when the cause says more. */
function downloadReason(e: unknown): string {
  const msg = (e as Error).message;
  const cause = (e as { cause?: { message?: string } }).cause?.message;
  return cause && cause !== msg ? `${msg} (${cause})` : msg;
}
