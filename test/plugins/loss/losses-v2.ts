/**
 * What the losses-v2 tests share: the fixture's shape
 * (../shared/fixtures/sentence-transformers/losses-v2.json, see its README), its loader, the plugin
 * options as validation fills them, and the 1e-5 comparison every case is held to.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { FIXTURE_DIR } from '../../helpers/shared.js';

export type Matrix = number[][];

/** One case; each test file reads the fields its losses have. */
export interface V2Case {
  id: string;
  loss: string;
  kwargs: Record<string, unknown>;
  config: Record<string, unknown>;
  columns: string[];
  inputs: Record<string, string>;
  /** gist: the guide's embedding of each column. */
  guide_inputs: Record<string, string>;
  labels: number[] | Matrix | null;
  value: number;
  grads: Record<string, Matrix>;
  equals?: string;
  model?: { weight: string; input_vectors: Record<string, string> };
}

export interface V2Fixture {
  tensors: Record<string, Matrix>;
  cases: V2Case[];
}

export function loadLossesV2(): V2Fixture {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, 'losses-v2.json'), 'utf8')) as V2Fixture;
}

/** The plugin's schema defaults overlaid with `options`, as validate fills them. */
export function withDefaults(plugin: { schema: unknown }, options: Record<string, unknown>): Record<string, unknown> {
  const props = (plugin.schema as { properties?: Record<string, { default?: unknown }> }).properties ?? {};
  const d = Object.fromEntries(Object.entries(props).flatMap(([k, s]) => (s.default === undefined ? [] : [[k, s.default]])));
  return { ...d, ...options };
}

/** Fails past 1e-5, relative where |expected| > 1. */
export function close(actual: ArrayLike<number>, expected: number[], what: string): void {
  expect(actual.length, what).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!)));
  expect(worst, what).toBeLessThan(1e-5);
}
