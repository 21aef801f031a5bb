/**
 * A third engine as a plugin package would write it: a `backend` that encodes with a model's
 * word-embedding table alone (mean of the token vectors, then Normalize). It imports nothing of
 * ftrun's but the two published entries, 'ftrun' and 'ftrun/engine' (docs/concepts.md, "Where
 * code lives"); tested from a folder outside the repository (test/cli/engine-plugin.test.ts).
 */
import { definePlugin, UserError, type Encoder, type ModelSpec, type RunContext } from 'ftrun';
import { loadModelLayout, poolAndNormalize, readSafetensors, resolveModelDir, Tokenizer } from 'ftrun/engine';

interface BagOfWordsOptions {
  batch_size: number;
}

export default definePlugin({
  stage: 'backend',
  type: 'bag-of-words',
  description: "Encodes with the model's word-embedding table: the mean of the token vectors, normalized.",
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: { batch_size: { type: 'integer', minimum: 1, default: 32, description: 'Texts per batch.' } },
  },
  create: (options: BagOfWordsOptions, ctx: RunContext) => ({
    async loadEncoder(model: ModelSpec, name: string): Promise<Encoder> {
      const dir = await resolveModelDir(model, ctx, { weights: ['safetensors'] });
      const layout = loadModelLayout(dir, model);
      if (!layout.weightsFile) throw new UserError('E_MODEL', `model ${name} (${dir}) has no model.safetensors`);
      const weights = readSafetensors(layout.weightsFile);
      const table = [...weights].find(([k]) => k.endsWith('word_embeddings.weight'))?.[1];
      if (!table) throw new UserError('E_MODEL', `${layout.weightsFile} has no word_embeddings.weight`);
      const [, dim] = table.shape as [number, number];
      const tokenizer = Tokenizer.fromFile(layout.tokenizerFile);
      const prompt = (kind: string) => (kind === 'query' ? layout.queryPrompt : layout.documentPrompt);
      return {
        dim,
        info: { backend: 'bag-of-words', batch_size: options.batch_size },
        async encode(texts, { kind, onProgress }) {
          const out: Float32Array[] = [];
          for (let i = 0; i < texts.length; i += options.batch_size) {
            const batch = tokenizer.encodeBatch(texts.slice(i, i + options.batch_size).map((t) => prompt(kind) + t), layout.maxSeqLength);
            const B = batch.inputIds.length;
            const S = Math.max(1, ...batch.inputIds.map((r) => r.length));
            const hidden = new Float32Array(B * S * dim);
            batch.inputIds.forEach((ids, b) => ids.forEach((id, s) => hidden.set(table.data.subarray(id * dim, id * dim + dim), (b * S + s) * dim)));
            out.push(...poolAndNormalize(hidden, batch.attentionMask, B, S, dim, 'mean', true));
            onProgress?.(out.length, texts.length);
          }
          return out;
        },
        async dispose() {},
      };
    },
  }),
});
