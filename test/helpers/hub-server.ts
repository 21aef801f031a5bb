/**
 * A local stand-in for the Hugging Face hub's dataset API on 127.0.0.1 (what
 * plugins/dataset/hf/hub.ts asks): `GET /api/datasets/{id}[/revision/{revision}]` (sha,
 * siblings, cardData.configs; 404 with x-error-code RepoNotFound / RevisionNotFound) and
 * `GET /datasets/{id}/resolve/{revision}/{path}` (the file, x-repo-commit). A repository answers
 * at `main` and at its sha; its `converted` files at `refs/convert/parquet` and their sha. A
 * `token`-protected repository answers 401 unless `Authorization: Bearer <token>` comes. It records
 * every request (path and authorization) and can close the connection halfway through a file's
 * body (`interrupt`), once per path listed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { parquetWriteBuffer } from 'hyparquet-writer';

export interface HubRepo {
  sha: string;
  /** Repository path → contents. */
  files: Record<string, Uint8Array | string>;
  cardData?: { configs?: unknown[] };
  /** The refs/convert/parquet branch, if the hub converted the dataset. */
  converted?: { sha: string; files: Record<string, Uint8Array | string> };
  /** Answer 401 unless this bearer token comes. */
  token?: string;
}

export interface FakeHub {
  url: string;
  /** `GET /path` of each request, in order. */
  requests: string[];
  /** The Authorization header of each request. */
  auth: Array<string | undefined>;
  /** Repository paths whose next download is cut off halfway (each once). */
  interrupt: Set<string>;
  close(): Promise<void>;
}

const CONVERTED = 'refs/convert/parquet';

export async function fakeHub(repos: Record<string, HubRepo>): Promise<FakeHub> {
  const requests: string[] = [];
  const auth: Array<string | undefined> = [];
  const interrupt = new Set<string>();
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '';
    requests.push(`${req.method} ${url}`);
    auth.push(req.headers.authorization);
    const notFound = (code: string) => res.writeHead(404, { 'x-error-code': code, 'content-type': 'application/json' }).end(JSON.stringify({ error: code }));
    const api = /^\/api\/datasets\/([^/]+\/[^/]+)(?:\/revision\/([^/]+))?$/.exec(url);
    const resolve = /^\/datasets\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url);
    const id = api?.[1] ?? resolve?.[1];
    const repo = id !== undefined ? repos[id] : undefined;
    if (!repo) return notFound('RepoNotFound');
    if (repo.token !== undefined && req.headers.authorization !== `Bearer ${repo.token}`) {
      res.writeHead(401, { 'x-error-code': 'GatedRepo' }).end('{"error":"Invalid credentials in Authorization header"}');
      return;
    }
    const revision = decodeURIComponent((api ? api[2] : resolve![2]) ?? 'main');
    const tree = revision === 'main' || revision === repo.sha ? { sha: repo.sha, files: repo.files } : repo.converted && (revision === CONVERTED || revision === repo.converted.sha) ? repo.converted : undefined;
    if (!tree) return notFound('RevisionNotFound');
    if (api) {
      const body = {
        id,
        sha: tree.sha,
        siblings: Object.keys(tree.files).map((rfilename) => ({ rfilename })),
        ...(tree === repo.converted ? {} : repo.cardData ? { cardData: repo.cardData } : {}),
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    const path = resolve![3]!.split('/').map(decodeURIComponent).join('/');
    const file = tree.files[path];
    if (file === undefined) return notFound('EntryNotFound');
    const body = Buffer.from(file);
    res.writeHead(200, { 'x-repo-commit': tree.sha, 'content-length': body.length, 'content-type': 'application/octet-stream' });
    if (interrupt.delete(path)) {
      // Half the body, then the connection closes: the client sees a body shorter than content-length.
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    auth,
    interrupt,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/** A Parquet file of string columns (name → values), one row group. */
export function parquetOf(columns: Record<string, string[]>): Uint8Array {
  return new Uint8Array(parquetWriteBuffer({ columnData: Object.entries(columns).map(([name, data]) => ({ name, data, type: 'STRING' as const })) }));
}

export const SHA = 'c0ffee'.padEnd(40, '0');
export const CONVERTED_SHA = 'da7a'.padEnd(40, '1');

/**
 * A sentence-transformers-style dataset laid out as `sentence-transformers/all-nli` is: configs
 * `pair` (anchor, positive), `pair-class` (premise, hypothesis, label), `pair-score` (sentence1,
 * sentence2, score) and `triplet` (anchor, positive, negative), each with train, dev and test
 * splits in `{config}/{split}-00000-of-00001.parquet`, named by the card's configs. Rows 0-3 are
 * train, 4 dev, 5 test.
 */
export function allNliRepo(): HubRepo {
  const anchors = ['A man plays a guitar.', 'Two dogs run in a field.', 'A woman reads a book.', 'Children play soccer.', 'A chef cooks pasta.', 'A cat sleeps on a sofa.'];
  const positives = ['Someone is making music.', 'Animals are outside.', 'A person is reading.', 'Kids are playing a sport.', 'Food is being prepared.', 'An animal is resting.'];
  const negatives = ['The man is asleep.', 'The dogs are indoors.', 'The woman is swimming.', 'The children are in class.', 'The kitchen is empty.', 'The cat is chasing a mouse.'];
  const columns: Record<string, Record<string, string[]>> = {
    pair: { anchor: anchors, positive: positives },
    'pair-class': { premise: anchors, hypothesis: positives, label: anchors.map(() => 'entailment') },
    'pair-score': { sentence1: anchors, sentence2: positives, score: anchors.map(() => '1.0') },
    triplet: { anchor: anchors, positive: positives, negative: negatives },
  };
  const rows: Record<string, [number, number]> = { train: [0, 4], dev: [4, 5], test: [5, 6] };
  const files: Record<string, Uint8Array | string> = {
    '.gitattributes': '*.parquet filter=lfs diff=lfs merge=lfs -text\n',
    'README.md': '---\nconfigs: …\n---\n# all-nli (stand-in)\n',
  };
  for (const [config, cols] of Object.entries(columns)) {
    for (const [split, [a, b]] of Object.entries(rows)) {
      files[`${config}/${split}-00000-of-00001.parquet`] = parquetOf(Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, v.slice(a, b)])));
    }
  }
  return {
    sha: SHA,
    files,
    cardData: {
      configs: Object.keys(columns).map((c) => ({
        config_name: c,
        data_files: Object.keys(rows).map((split) => ({ split, path: `${c}/${split}-*` })),
      })),
    },
  };
}

/** The environment variables the hub clients read. */
const HF_ENV = ['HF_HOME', 'HF_HUB_CACHE', 'HUGGINGFACE_HUB_CACHE', 'HF_ENDPOINT', 'HF_TOKEN', 'HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE'];

/**
 * Each test of the calling file in a Hugging Face environment of its own: the hub variables
 * cleared, HF_HOME a fresh temp directory (removed after), the caller's values restored after.
 * Call at the top of the file, before the file's own hooks; returns the current test's HF_HOME.
 */
export function isolatedHfHome(prefix: string): () => string {
  let saved: Record<string, string | undefined> = {};
  let home = '';
  beforeEach(() => {
    saved = Object.fromEntries(HF_ENV.map((k) => [k, process.env[k]]));
    for (const k of HF_ENV) delete process.env[k];
    home = mkdtempSync(join(tmpdir(), prefix));
    process.env.HF_HOME = home;
  });
  afterEach(() => {
    for (const k of HF_ENV) if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
    rmSync(home, { recursive: true, force: true });
  });
  return () => home;
}
