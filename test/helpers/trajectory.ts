/** trajectory.json of the fixture (see ../shared/fixtures/README.md), shared by the engines' trajectory tests. */
import { readFileSync } from 'node:fs';
import { FIXTURE_DIR } from './shared.js';

export interface TrajectoryRun {
  optimizer: { lr: number; betas: [number, number]; eps: number; weight_decay: number };
  batch_size: number;
  steps: Array<{ loss: number; grad_norm: number }>;
  probe_texts: string[];
  probe_embeddings_after: number[][];
}

export function trajectory(key: string): TrajectoryRun {
  return (JSON.parse(readFileSync(`${FIXTURE_DIR}/trajectory.json`, 'utf8')) as Record<string, TrajectoryRun>)[key]!;
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}
