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

it('extends: a training section with another method replaces the inherited one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftrun-ext-'));
  writeFileSync(join(dir, 'base.yaml'), 'training: { method: full, epochs: 5, learning_rate: 2.0e-5 }\n');
  writeFileSync(join(dir, 'x.yaml'), 'extends: ./base.yaml\ntraining: { method: none }\n');
  writeFileSync(join(dir, 'y.yaml'), 'extends: ./base.yaml\ntraining: { epochs: 2 }\n');
  expect(loadConfig(join(dir, 'x.yaml'), { env: {} }).data.training).toEqual({ method: 'none' });
  expect(loadConfig(join(dir, 'y.yaml'), { env: {} }).data.training).toEqual({ method: 'full', epochs: 2, learning_rate: 2e-5 });
});
