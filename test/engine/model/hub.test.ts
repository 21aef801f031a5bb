import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { UserError } from '../../../core/errors.js';
import { resolveModelDir } from '../../../engine/model/hub.js';
import type { ModelSpec } from '../../../core/types.js';
import { makeContext } from '../../helpers/context.js';
import { TINY_BERT, describeShared } from '../../helpers/shared.js';

const ENV = ['HF_HOME', 'HF_HUB_CACHE', 'HUGGINGFACE_HUB_CACHE', 'HF_ENDPOINT', 'HF_TOKEN', 'HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE'];
const COMMIT = 'a'.repeat(40);
const spec = (o: Partial<ModelSpec>): ModelSpec => ({ query_prompt: '', document_prompt: '', ...o });
let saved: Record<string, string | undefined>;
let home: string;
let server: Server | undefined;

beforeEach(() => {
  saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
  for (const k of ENV) delete process.env[k];
  home = mkdtempSync(join(tmpdir(), 'ftrun-hf-'));
  process.env.HF_HOME = home;
});
afterEach(async () => {
  for (const k of ENV) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
  rmSync(home, { recursive: true, force: true });
  if (server) await new Promise((r) => server!.close(r));
  server = undefined;
});

/** A fake hub on 127.0.0.1 serving the tiny-bert files as org/tiny-bert; records requests. */
async function fakeHub(): Promise<{ url: string; requests: string[]; auth: Array<string | undefined> }> {
  const requests: string[] = [];
  const auth: Array<string | undefined> = [];
  server = createServer((req, res) => {
    requests.push(req.url!);
    auth.push(req.headers.authorization);
    const m = /^\/org\/tiny-bert\/resolve\/([^/]+)\/(.+)$/.exec(req.url!);
    const file = m && join(TINY_BERT, decodeURIComponent(m[2]!));
    if (!m || !existsSync(file!) || (m[1] !== 'main' && m[1] !== COMMIT)) {
      res.writeHead(m ? 404 : 401).end();
      return;
    }
    const body = readFileSync(file!);
    res.writeHead(200, { 'x-repo-commit': COMMIT, 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, auth };
}

it('offline and not cached: E_MODEL naming the cache and what to do', async () => {
  process.env.HF_HUB_OFFLINE = '1';
  const err = await resolveModelDir(spec({ id: 'BAAI/bge-base-en' }), makeContext()).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UserError);
  expect((err as UserError).code).toBe('E_MODEL');
  expect((err as UserError).message).toBe(
    `model "BAAI/bge-base-en" is not in the Hugging Face cache (${join(home, 'hub', 'models--BAAI--bge-base-en')}) and HF_HUB_OFFLINE=1: ` +
      'download it once with network access, or point model.path at a local directory',
  );
});

it('model.path resolves against the config directory and must exist', async () => {
  const ctx = makeContext({ baseDir: home });
  mkdirSync(join(home, 'm'));
  expect(await resolveModelDir(spec({ path: 'm' }), ctx)).toBe(join(home, 'm'));
  await expect(resolveModelDir(spec({ path: 'nope' }), ctx)).rejects.toThrow(`model.path ${join(home, 'nope')} does not exist`);
});

it('a network failure gives a clear E_MODEL message', async () => {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r)); // nothing listens there now
  process.env.HF_ENDPOINT = `http://127.0.0.1:${port}`;
  await expect(resolveModelDir(spec({ id: 'org/x' }), makeContext())).rejects.toThrow(
    new RegExp(`could not download model "org/x" from http://127.0.0.1:${port}: ECONNREFUSED`),
  );
});

describeShared('hub cache and download', () => {
  it('uses a cached snapshot without any network', async () => {
    const snap = join(home, 'hub', 'models--org--tiny-bert', 'snapshots', COMMIT);
    cpSync(TINY_BERT, snap, { recursive: true });
    mkdirSync(join(home, 'hub', 'models--org--tiny-bert', 'refs'));
    writeFileSync(join(home, 'hub', 'models--org--tiny-bert', 'refs', 'main'), COMMIT);
    process.env.HF_ENDPOINT = 'http://127.0.0.1:9'; // would fail if used
    expect(await resolveModelDir(spec({ id: 'org/tiny-bert' }), makeContext())).toBe(snap);
    expect(await resolveModelDir(spec({ id: 'org/tiny-bert', revision: COMMIT }), makeContext())).toBe(snap);
  });

  it('downloads from HF_ENDPOINT once, with HF_TOKEN, into the standard layout', async () => {
    const hub = await fakeHub();
    process.env.HF_ENDPOINT = hub.url;
    process.env.HF_TOKEN = 'hf_test';
    const dir = await resolveModelDir(spec({ id: 'org/tiny-bert' }), makeContext(), { weights: ['onnx'] });
    const repo = join(home, 'hub', 'models--org--tiny-bert');
    expect(dir).toBe(join(repo, 'snapshots', COMMIT));
    expect(readFileSync(join(repo, 'refs', 'main'), 'utf8')).toBe(COMMIT);
    for (const f of ['config.json', 'tokenizer.json', 'modules.json', '1_Pooling/config.json', '2_Normalize/config.json', 'model.onnx']) {
      expect(readFileSync(join(dir, f)).equals(readFileSync(join(TINY_BERT, f))), f).toBe(true);
    }
    expect(existsSync(join(dir, 'model.safetensors'))).toBe(false); // not asked for
    expect(readdirSync(dir).filter((f) => f.includes('.incomplete'))).toEqual([]);
    expect(hub.requests).toContain('/org/tiny-bert/resolve/main/config.json');
    expect(hub.requests).toContain(`/org/tiny-bert/resolve/${COMMIT}/onnx/model.onnx`); // tried first, 404
    expect(hub.auth.every((a) => a === 'Bearer hf_test')).toBe(true);

    const n = hub.requests.length;
    expect(await resolveModelDir(spec({ id: 'org/tiny-bert' }), makeContext(), { weights: ['onnx'] })).toBe(dir);
    expect(hub.requests.length).toBe(n); // cached: no new request
  });

  it('refused access names HF_TOKEN', async () => {
    const hub = await fakeHub();
    process.env.HF_ENDPOINT = hub.url;
    await expect(resolveModelDir(spec({ id: 'other/private' }), makeContext())).rejects.toThrow(
      /access denied \(HTTP 401\).*model "other\/private" may not exist, or be private or gated \(set HF_TOKEN/,
    );
  });
});
