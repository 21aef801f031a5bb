/**
 * The Parquet files of a Hugging Face hub dataset's config and split, downloaded once into the
 * standard HF cache (`<cache>/datasets--org--name/snapshots/<commit>/<path>`, `refs/<revision>`
 * holding the commit) with the models' rules (engine/model/hub-http.ts: HF_ENDPOINT, HF_TOKEN,
 * HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE, atomic temp-file + rename).
 *
 * Which files: the repository's file list and dataset card (`GET {endpoint}/api/datasets/{id}/revision/{revision}`:
 * `sha`, `siblings`, `cardData.configs`) select them as the hub names them — the card's
 * `configs[].data_files` (split → glob patterns), else splits inferred from file and directory
 * names (`data/{split}-00000-of-00001.parquet`, `data/{split}/…`, then the keywords train/training,
 * validation/valid/val/dev, test/testing/eval/evaluation delimited by `-._ 0-9/`, else everything
 * is `train`). A split whose files are not Parquet (CSV, JSON…) is read from the hub's automatic
 * conversion, the `refs/convert/parquet` branch (`{config}/{split}/NNNN.parquet`).
 *
 * So that a warm cache needs no request at all (and works offline), the file list and card's
 * configs of each commit are kept beside the snapshots, in `ftrun-info/<commit>.json`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { didYouMean, UserError } from '../../../core/errors.js';
import type { Logger, Progress } from '../../../core/types.js';
import { cachedCommit, hfCacheDir, hubEndpoint, isCommit, hubGet, offlineSetting, saveAtomic, tokenAdvice, writeAtomic } from '../../../engine/model/hub-http.js';

export const CONVERTED_REVISION = 'refs/convert/parquet';
export const HF_ID = /^[\w.-]+\/[\w.-]+$/;

export interface HfDatasetRef {
  id: string;
  config?: string;
  split?: string;
  revision?: string;
}

export interface HfResolveContext {
  signal: AbortSignal;
  progress?: Progress;
  logger?: Logger;
  /** How messages name each option (default `dataset.id`, `dataset.config`, …). */
  names?: Partial<Record<OptionName, string>>;
}

export type OptionName = 'id' | 'config' | 'split' | 'eval_split' | 'revision';

export interface HfParquet {
  id: string;
  config: string;
  split: string;
  /** The config's splits and the dataset's configs, sorted as the hub lists them. */
  splits: string[];
  configs: string[];
  /** As asked (default `main`). */
  revision: string;
  /** The commit `revision` resolved to. */
  commit: string;
  /** Absolute paths of the split's Parquet files in the cache, in order. */
  files: string[];
  /** The same files as repository paths. */
  repoFiles: string[];
  /** Set when the files come from the hub's Parquet conversion (the split is not Parquet in the repository). */
  converted?: { revision: string; commit: string };
}

/** One data_files entry of a dataset card's config. */
interface CardConfig {
  config_name?: string;
  default?: boolean;
  data_files?: string | string[] | Array<{ split?: string; path?: string | string[] }>;
}

/** What the hub says of one commit, as kept in ftrun-info/<commit>.json. */
interface Listing {
  sha: string;
  files: string[];
  configs: CardConfig[];
}

/** config → split → its Parquet files (repository paths; empty: the split's files are not Parquet). */
interface Layout {
  configs: Map<string, Map<string, string[]>>;
  default?: string;
}

const PARQUET = /\.parquet$/i;
const DATA_FILE = /\.(parquet|csv|tsv|json|jsonl|txt|arrow)(\.(gz|bz2|xz|zst))?$/i;
const SPLIT_KEYWORDS: Array<[string, string[]]> = [
  ['train', ['train', 'training']],
  ['validation', ['validation', 'valid', 'val', 'dev']],
  ['test', ['test', 'testing', 'eval', 'evaluation']],
];

/** The Parquet files of one split (see resolveHfSplits). */
export async function resolveHfParquet(ref: HfDatasetRef, ctx: HfResolveContext): Promise<HfParquet> {
  const [one] = await resolveHfSplits(ref, [ref.split ?? 'train'], ctx);
  return one!;
}

/**
 * The Parquet files of each of `splits` (the first named by `split`, the others by `eval_split`
 * in messages) of dataset `ref`, from the cache when they are all there (no request), else
 * downloaded (unless offline).
 */
export async function resolveHfSplits(ref: HfDatasetRef, splits: string[], ctx: HfResolveContext): Promise<HfParquet[]> {
  const name = (o: OptionName) => ctx.names?.[o] ?? `dataset.${o}`;
  const { id } = ref;
  if (!HF_ID.test(id)) throw new UserError('E_DATA', `${name('id')}: "${id}" is not a Hugging Face dataset id (expected "org/name")`);
  const revision = ref.revision ?? 'main';
  const repoDir = join(hfCacheDir(), `datasets--${id.replace('/', '--')}`);

  // A warm cache: every file there, no request.
  const cached = cachedListing(repoDir, revision);
  const offline = offlineSetting();
  if (cached) {
    const converted = () => cachedListing(repoDir, CONVERTED_REVISION);
    let picked: HfParquet[] | undefined;
    try {
      picked = pickAll(ref, splits, revision, cached, converted, name, repoDir, false);
    } catch (e) {
      // A config or split the cached listing lacks: a branch may have moved since, so ask the hub (unless offline or pinned to a commit).
      if (offline || isCommit(revision)) throw e;
    }
    if (picked && picked.every((p) => p.files.every((f) => existsSync(f)))) return picked;
  }
  if (offline) {
    const rev = revision === 'main' ? '' : ` (revision ${revision})`;
    throw new UserError(
      'E_FILE',
      `${name('id')}: dataset "${id}"${rev} is not in the Hugging Face cache (${repoDir}) and ${offline}: ` +
        `download it once with network access (unset ${offline.split('=')[0]})`,
    );
  }

  const endpoint = hubEndpoint();
  const hub = new HubClient(id, endpoint, ctx, name);
  const listing = await hub.listing(revision);
  writeAtomic(join(repoDir, 'ftrun-info', `${listing.sha}.json`), JSON.stringify(listing));
  // Whether the conversion is needed is known only from the repository's listing: fetch its listing then.
  let convertedListing: Listing | undefined;
  if (needsConversion(ref, splits, listing)) {
    convertedListing = await hub.listing(CONVERTED_REVISION);
    if (convertedListing.sha) {
      writeAtomic(join(repoDir, 'ftrun-info', `${convertedListing.sha}.json`), JSON.stringify(convertedListing));
      writeAtomic(join(repoDir, 'refs', CONVERTED_REVISION), convertedListing.sha);
    }
  }
  const picked = pickAll(ref, splits, revision, listing, () => convertedListing, name, repoDir, true)!;
  ctx.logger?.info(`dataset ${id} (${revision}): ${picked.flatMap((p) => p.repoFiles).length} Parquet file(s) from ${endpoint} into ${repoDir}`);
  for (const p of picked) {
    const commit = p.converted?.commit ?? p.commit;
    for (const [i, file] of p.files.entries()) {
      if (!existsSync(file)) await hub.download(commit, p.repoFiles[i]!, file);
    }
  }
  if (listing.sha !== revision) writeAtomic(join(repoDir, 'refs', revision), listing.sha);
  return picked;
}

/** The listing kept for `revision` (a commit, or a branch or tag through refs/), if any. */
function cachedListing(repoDir: string, revision: string): Listing | undefined {
  const commit = cachedCommit(repoDir, revision);
  const path = commit && join(repoDir, 'ftrun-info', `${commit}.json`);
  if (!path || !existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Listing;
  } catch {
    return undefined;
  }
}

/** Whether some of `splits` have no Parquet files in the repository (so the conversion is needed). */
function needsConversion(ref: HfDatasetRef, splits: string[], listing: Listing): boolean {
  const layout = repoLayout(listing);
  if (layout.configs.size === 0) return true;
  const config = ref.config ?? layout.default;
  const s = config !== undefined ? layout.configs.get(config) : undefined;
  return s !== undefined && splits.some((split) => s.get(split)?.length === 0);
}

/**
 * Each split's files, from the repository's listing or (for splits that are not Parquet there)
 * the conversion's; undefined when the conversion's listing is needed but absent and `strict` is
 * false (a cold cache). Missing configs and splits are E_DATA naming the choices.
 */
function pickAll(
  ref: HfDatasetRef,
  splits: string[],
  revision: string,
  listing: Listing,
  convertedListing: () => Listing | undefined,
  name: (o: OptionName) => string,
  repoDir: string,
  strict: boolean,
): HfParquet[] | undefined {
  const id = ref.id;
  let layout = repoLayout(listing);
  let conv: Listing | undefined;
  // A repository with no data files (a loading script, say): the conversion is the dataset.
  if (layout.configs.size === 0) {
    conv = convertedListing();
    if (!conv) return strict ? noData(id, name) : undefined;
    layout = convertedLayout(conv.files);
    if (layout.configs.size === 0) return noData(id, name);
  }
  const configs = [...layout.configs.keys()];
  const config = ref.config ?? layout.default;
  if (config === undefined) {
    throw new UserError('E_DATA', `${name('config')}: ${id} has ${configs.length} configs; choose one. Configs: ${configs.join(', ')}`);
  }
  const splitMap = layout.configs.get(config);
  if (!splitMap) throw missing('config', config, configs, `no config "${config}" in ${id}`, name('config'));
  const out: HfParquet[] = [];
  for (const [i, split] of splits.entries()) {
    const names = [...splitMap.keys()];
    let repoFiles = splitMap.get(split);
    if (repoFiles === undefined) throw missing('split', split, names, `no split "${split}" in ${id} (config ${config})`, name(i === 0 ? 'split' : 'eval_split'));
    let converted: HfParquet['converted'];
    const fromConversion = conv !== undefined || repoFiles.length === 0;
    if (fromConversion) {
      const c = conv ?? convertedListing();
      if (!c) {
        if (!strict) return undefined;
        throw noParquet(id, config, split, name(i === 0 ? 'split' : 'eval_split'));
      }
      repoFiles = convertedLayout(c.files).configs.get(config)?.get(split) ?? [];
      if (repoFiles.length === 0) throw noParquet(id, config, split, name(i === 0 ? 'split' : 'eval_split'));
      converted = { revision: CONVERTED_REVISION, commit: c.sha };
    }
    const snap = join(repoDir, 'snapshots', converted?.commit ?? listing.sha);
    out.push({
      id,
      config,
      split,
      splits: names,
      configs,
      revision,
      commit: listing.sha,
      files: repoFiles.map((f) => join(snap, ...f.split('/'))),
      repoFiles,
      ...(converted ? { converted } : {}),
    });
  }
  return out;
}

function missing(what: string, value: string, choices: string[], head: string, option: string): UserError {
  const hint = didYouMean(value, choices);
  return new UserError('E_DATA', `${option}: ${head}.${hint !== undefined ? ` Did you mean "${hint}"?` : ''} ${what === 'config' ? 'Configs' : 'Splits'}: ${choices.join(', ')}`);
}

const noData = (id: string, name: (o: OptionName) => string): never => {
  throw new UserError('E_DATA', `${name('id')}: ${id} has no data files (Parquet, CSV, JSON) and no Parquet conversion (${CONVERTED_REVISION})`);
};

const noParquet = (id: string, config: string, split: string, option: string): UserError =>
  new UserError('E_DATA', `${option}: split "${split}" of ${id} (config ${config}) is not Parquet in the repository and the hub's Parquet conversion (${CONVERTED_REVISION}) has no files for it`);

/** The repository's configs and splits: the card's `configs` when it has them, else inferred from the file names. */
function repoLayout(listing: Listing): Layout {
  const configs = new Map<string, Map<string, string[]>>();
  const cards = listing.configs.filter((c) => c.data_files !== undefined);
  if (cards.length > 0) {
    for (const c of cards) {
      const splits = new Map<string, string[]>();
      for (const [split, patterns] of dataFilesOf(c.data_files!)) {
        const re = patterns.map(globRegex);
        const files = listing.files.filter((f) => re.some((r) => r.test(f)));
        splits.set(split, [...(splits.get(split) ?? []), ...files.filter((f) => PARQUET.test(f))]);
      }
      configs.set(c.config_name ?? 'default', splits);
    }
    const marked = cards.find((c) => c.default);
    const def = marked ? (marked.config_name ?? 'default') : configs.has('default') ? 'default' : configs.size === 1 ? [...configs.keys()][0] : undefined;
    return { configs, ...(def !== undefined ? { default: def } : {}) };
  }
  const data = listing.files.filter((f) => DATA_FILE.test(f) && !f.split('/').some((s) => s.startsWith('.') || s.startsWith('__')));
  if (data.length === 0) return { configs };
  const splits = inferSplits(data);
  configs.set('default', new Map([...splits].map(([s, files]) => [s, files.filter((f) => PARQUET.test(f))])));
  return { configs, default: 'default' };
}

/** A card config's `data_files` as split → patterns (a bare pattern or list: the `train` split). */
function dataFilesOf(d: NonNullable<CardConfig['data_files']>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (split: string, p: string | string[] | undefined) => {
    if (p !== undefined) out.set(split, [...(out.get(split) ?? []), ...(typeof p === 'string' ? [p] : p)]);
  };
  if (typeof d === 'string') add('train', d);
  else for (const e of d) typeof e === 'string' ? add('train', e) : add(e.split ?? 'train', e.path);
  return out;
}

/** The hub's split inference from file names (huggingface datasets' data_files defaults). */
function inferSplits(files: string[]): Map<string, string[]> {
  const byGroup = (re: RegExp): Map<string, string[]> => {
    const m = new Map<string, string[]>();
    for (const f of files) {
      const g = re.exec(f);
      if (g) m.set(g[1]!, [...(m.get(g[1]!) ?? []), f]);
    }
    return m;
  };
  // data/{split}-00000-of-00001.parquet (any split name), then data/{split}/…
  const named = byGroup(/^data\/([\w]+?)-\d{5}-of-\d{5}[^/]*$/);
  if (named.size > 0) return named;
  const dirs = byGroup(/^data\/([\w]+)\/.+$/);
  if (dirs.size > 0) return dirs;
  const keyed = new Map<string, string[]>();
  for (const [split, words] of SPLIT_KEYWORDS) {
    const re = new RegExp(`(^|[-._ 0-9/])(${words.join('|')})([-._ 0-9/]|$)`);
    const hits = files.filter((f) => re.test(f));
    if (hits.length > 0) keyed.set(split, hits);
  }
  return keyed.size > 0 ? keyed : new Map([['train', files]]);
}

/** The configs and splits of the refs/convert/parquet branch: `{config}/{split}/NNNN.parquet`. */
function convertedLayout(files: string[]): Layout {
  const configs = new Map<string, Map<string, string[]>>();
  for (const f of files.filter((x) => PARQUET.test(x)).sort()) {
    const m = /^([^/]+)\/([^/]+)\/[^/]+$/.exec(f);
    if (!m) continue;
    const splits = configs.get(m[1]!) ?? new Map<string, string[]>();
    splits.set(m[2]!, [...(splits.get(m[2]!) ?? []), f]);
    configs.set(m[1]!, splits);
  }
  const def = configs.has('default') ? 'default' : configs.size === 1 ? [...configs.keys()][0] : undefined;
  return { configs, ...(def !== undefined ? { default: def } : {}) };
}

/** An fsspec-style glob as a regex: `*` and `?` within a path segment, `**` across segments, `[…]` classes. */
export function globRegex(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      i++;
      if (glob[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re.replace(/^\.\//, '')}$`);
}

/** Requests to the hub for one dataset, their failures as located user errors. */
class HubClient {
  constructor(
    private readonly id: string,
    private readonly endpoint: string,
    private readonly ctx: HfResolveContext,
    private readonly name: (o: OptionName) => string,
  ) {}

  private async get(url: string, what: string): Promise<Response | undefined> {
    const res = await hubGet(
      url,
      this.ctx.signal,
      (reason, e) =>
        new UserError('E_FILE', `${this.name('id')}: could not reach ${this.endpoint} for dataset "${this.id}": ${reason}. Check network access (and HF_ENDPOINT)`, { cause: e }),
    );
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new UserError(
        'E_FILE',
        `${this.name('id')}: access denied (HTTP ${res.status}) to ${what} of dataset "${this.id}" at ${this.endpoint}: it may not exist, or be private or gated (${tokenAdvice()})`,
      );
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new UserError('E_FILE', `${this.name('id')}: ${url} failed: HTTP ${res.status} ${res.statusText}`);
    }
    return res;
  }

  /** The commit, files and card configs of `revision`. */
  async listing(revision: string): Promise<Listing> {
    const url = `${this.endpoint}/api/datasets/${this.id}/revision/${encodeURIComponent(revision)}`;
    const res = await this.get(url, `the file list (${revision})`);
    if (!res) {
      if (revision === CONVERTED_REVISION) return { sha: '', files: [], configs: [] };
      // The hub says which: x-error-code RevisionNotFound or RepoNotFound.
      const notRevision = revision !== 'main' && (await this.exists());
      throw notRevision
        ? new UserError('E_FILE', `${this.name('revision')}: no revision "${revision}" in dataset "${this.id}" at ${this.endpoint}`)
        : new UserError('E_FILE', `${this.name('id')}: dataset "${this.id}" not found at ${this.endpoint}`);
    }
    let info: { sha?: unknown; siblings?: Array<{ rfilename?: unknown }>; cardData?: { configs?: unknown } };
    try {
      info = (await res.json()) as typeof info;
    } catch (e) {
      throw new UserError('E_FILE', `${this.name('id')}: ${url} did not answer JSON: ${(e as Error).message}`, { cause: e });
    }
    if (typeof info.sha !== 'string' || !Array.isArray(info.siblings)) {
      throw new UserError('E_FILE', `${this.name('id')}: ${url} did not answer a dataset's info (sha and siblings)`);
    }
    // Repository paths only: nothing that would land outside the snapshot directory.
    const files = info.siblings.map((s) => s.rfilename).filter((f): f is string => typeof f === 'string' && !f.startsWith('/') && !f.split('/').some((p) => p === '..' || p === '' || p.includes('\\')));
    const configs = Array.isArray(info.cardData?.configs) ? (info.cardData.configs as CardConfig[]) : [];
    return { sha: info.sha, files, configs };
  }

  private async exists(): Promise<boolean> {
    return (await this.get(`${this.endpoint}/api/datasets/${this.id}`, 'the info')) !== undefined;
  }

  async download(commit: string, path: string, dest: string): Promise<void> {
    const url = `${this.endpoint}/datasets/${this.id}/resolve/${commit}/${path.split('/').map(encodeURIComponent).join('/')}`;
    const res = await this.get(url, path);
    if (!res) throw new UserError('E_FILE', `${this.name('id')}: ${path} of dataset "${this.id}" (commit ${commit}) is listed but not found at ${url}`);
    const progress = this.ctx.progress ?? { start: () => ({ update() {}, done() {} }) };
    try {
      await saveAtomic(res, dest, `${this.id} ${path}`, { progress, signal: this.ctx.signal }, 'E_FILE');
    } catch (e) {
      if (e instanceof UserError) throw new UserError(e.code, `${this.name('id')}: ${e.message}; run again to download it`, { cause: e });
      throw e;
    }
  }
}
