import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadConfig } from '../../core/config/load.js';

it('extends: a plugin entry with another type replaces the inherited entry instead of merging into it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftrun-ext-'));
  writeFileSync(join(dir, 'base.yaml'), 'backend: { type: tfjs, device: wasm }\nstore: { type: lancedb, uri: ./db }\n');
  writeFileSync(join(dir, 'x.yaml'), 'extends: ./base.yaml\nbackend: { type: ort, intra_op_threads: 1 }\nstore: { uri: ./other }\n');
  const loaded = loadConfig(join(dir, 'x.yaml'), { env: {} });
  expect(loaded.data.backend).toEqual({ type: 'ort', intra_op_threads: 1 });
  expect(loaded.data.store).toEqual({ type: 'lancedb', uri: './other' });
  expect(loaded.locate(['backend', 'type']).file).toBe(join(dir, 'x.yaml'));
});
