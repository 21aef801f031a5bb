/**
 * RunResources.make: a plain plugin class that declares a loss's `needs` or a miner's `provides`
 * only as a static gets them on its instance, where the trainer and the runner read them.
 */
import { expect, it } from 'vitest';
import { Registry } from '../../core/registry.js';
import { RunResources } from '../../core/run/resources.js';
import { makeContext } from '../helpers/context.js';

class StaticLoss {
  static type = 'static-loss';
  static description = 'a loss that declares needs only as a static';
  static schema = { type: 'object', properties: {} };
  static needs = 'pairs' as const;
  compute(): never {
    throw new Error('not called');
  }
}

class StaticMiner {
  static type = 'static-miner';
  static description = 'a miner that declares provides only as a static';
  static schema = { type: 'object', properties: {} };
  static provides = ['pairs', 'triplets'] as const;
  async mine() {
    return { shapes: [], items: [] };
  }
}

it('copies a static needs / provides onto the instance', async () => {
  const registry = new Registry();
  registry.register('loss', StaticLoss);
  registry.register('miner', StaticMiner);
  const res = new RunResources(registry, makeContext());
  const loss = await res.make('loss', { type: 'static-loss' });
  const miner = await res.make('miner', { type: 'static-miner' });
  expect(loss.needs).toBe('pairs');
  expect(miner.provides).toEqual(['pairs', 'triplets']);
  expect(miner.provides).not.toBe(StaticMiner.provides);
});
