/**
 * Finds a model's directory: `model.path` (a local directory) or `model.id` (a Hugging Face hub
 * id, looked up in the standard HF cache `<cache>/models--org--name/snapshots/<commit>/` through
 * `refs/<revision>`). A model that is not cached is downloaded once, file by file (temp file +
 * rename), unless HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE is set.
 * Env: HF_HUB_CACHE, HF_HOME, HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, TRANSFORMERS_OFFLINE.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../core/errors.js';
import type { ModelSpec, RunContext } from '../../core/types.js';
import { cachedCommit, hfCacheDir, hubEndpoint, isCommit, hubGet, offlineSetting, saveAtomic, tokenAdvice, writeAtomic } from './hub-http.js';

export { hfCacheDir } from './hub-http.js';

export type WeightFormat = 'onnx' | 'safetensors';

export interface ResolveOptions {
  /** Weight formats the caller can use, preferred first; a cached snapshot must hold one, a download fetches the first the repository has. Default: both. */
  weights?: WeightFormat[];
}

const METADATA = ['tokenizer_config.json', 'modules.json', 'sentence_bert_config.json', 'config_sentence_transformers.json'];
const WEIGHT_FILES: Record<WeightFormat, string[][]> = {
  onnx: [['onnx/model.onnx', 'onnx/model.onnx_data'], ['model.onnx', 'model.onnx_data']],
  safetensors: [['model.safetensors']],
};

export async function resolveModelDir(spec: ModelSpec, ctx: RunContext, opts: ResolveOptions = {}): Promise<string> {
  if (spec.path) {
    const dir = ctx.resolvePath(spec.path);
    if (!existsSync(dir)) throw new UserError('E_MODEL', `model.path ${dir} does not exist`);
    return dir;
  }
  const id = spec.id;
  if (!id) throw new UserError('E_MODEL', 'the model needs either model.id (a Hugging Face id) or model.path');
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(id)) {
    throw new UserError('E_MODEL', `model.id "${id}" is not a Hugging Face model id (expected "org/name")`);
  }
  const revision = spec.revision ?? 'main';
  const weights = opts.weights ?? ['onnx', 'safetensors'];
  const repoDir = join(hfCacheDir(), `models--${id.replace('/', '--')}`);
  const cached = cachedSnapshot(repoDir, revision, weights);
  if (cached) return cached;
  const v = offlineSetting();
  if (v) {
    // Offline, a snapshot without the wanted weights is still returned: the backend says what it lacks.
    const partial = cachedSnapshot(repoDir, revision, []);
    if (partial) return partial;
    const rev = revision === 'main' ? '' : ` (revision ${revision})`;
    throw new UserError(
      'E_MODEL',
      `model "${id}"${rev} is not in the Hugging Face cache (${repoDir}) and ${v}: ` +
        'download it once with network access, or point model.path at a local directory',
    );
  }
  return download(id, revision, repoDir, weights, ctx);
}

function hasFiles(dir: string, weights: WeightFormat[]): boolean {
  const has = (f: string) => existsSync(join(dir, f));
  return has('config.json') && has('tokenizer.json') && (weights.length === 0 || weights.some((w) => WEIGHT_FILES[w].some((g) => has(g[0]!))));
}

function cachedSnapshot(repoDir: string, revision: string, weights: WeightFormat[]): string | undefined {
  const commit = cachedCommit(repoDir, revision);
  const dir = commit && join(repoDir, 'snapshots', commit);
  return dir && hasFiles(dir, weights) ? dir : undefined;
}

async function download(id: string, revision: string, repoDir: string, weights: WeightFormat[], ctx: RunContext): Promise<string> {
  const endpoint = hubEndpoint();
  ctx.logger.info(`downloading model ${id} (${revision}) from ${endpoint} into ${repoDir}`);

  const get = async (rev: string, file: string): Promise<Response | undefined> => {
    const url = `${endpoint}/${id}/resolve/${encodeURIComponent(rev)}/${file}`;
    const res = await hubGet(
      url,
      ctx.signal,
      (reason, e) =>
        new UserError(
          'E_MODEL',
          `could not download model "${id}" from ${endpoint}: ${reason}. Check network access (and HF_ENDPOINT), or point model.path at a local directory`,
          { cause: e },
        ),
    );
    if (res.status === 404) return undefined;
    if (res.status === 401 || res.status === 403) {
      throw new UserError(
        'E_MODEL',
        `access denied (HTTP ${res.status}) to ${url}: model "${id}" may not exist, or be private or gated ` +
          `(${tokenAdvice()})`,
      );
    }
    if (!res.ok) throw new UserError('E_MODEL', `download of ${url} failed: HTTP ${res.status} ${res.statusText}`);
    return res;
  };

  const first = await get(revision, 'config.json');
  if (!first) {
    throw new UserError('E_MODEL', `model "${id}" (revision ${revision}) not found at ${endpoint}: no config.json`);
  }
  const commit = first.headers.get('x-repo-commit') ?? (isCommit(revision) ? revision : revision.replace(/[^\w.-]/g, '_'));
  const snap = join(repoDir, 'snapshots', commit);
  const save = async (file: string, res: Response): Promise<void> => saveAtomic(res, join(snap, file), `${id} ${file}`, ctx);
  const fetchFile = async (file: string): Promise<boolean> => {
    if (existsSync(join(snap, file))) return true;
    const res = await get(commit, file);
    if (res) await save(file, res);
    return res !== undefined;
  };

  if (existsSync(join(snap, 'config.json'))) await first.body?.cancel();
  else await save('config.json', first);
  if (!(await fetchFile('tokenizer.json'))) {
    throw new UserError('E_MODEL', `model "${id}" has no tokenizer.json at ${endpoint}; only models with a fast (tokenizer.json) tokenizer are supported`);
  }
  for (const f of METADATA) await fetchFile(f);
  const modules = existsSync(join(snap, 'modules.json')) ? (JSON.parse(readFileSync(join(snap, 'modules.json'), 'utf8')) as Array<{ path?: string }>) : [];
  for (const m of modules) if (m.path) await fetchFile(`${m.path}/config.json`);
  // The first format (in the caller's order of preference) the repository has; one is enough.
  formats: for (const w of weights) {
    for (const [main, ...extra] of WEIGHT_FILES[w]) {
      if (await fetchFile(main!)) {
        for (const x of extra) await fetchFile(x);
        break formats;
      }
    }
  }
  if (commit !== revision) writeAtomic(join(repoDir, 'refs', revision), commit);
  return snap;
}
