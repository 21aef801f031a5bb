import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { selectTfjsDevice } from '../../core/tfjs/device.js';
import { BertModel } from '../../core/tfjs/bert.js';
import { poolTf, l2Normalize } from '../../core/tfjs/pooling.js';
import { it } from 'vitest';
it('scratch', async () => {
const dir='/work/shared/fixtures/sentence-transformers';
const enc=JSON.parse(readFileSync(dir+'/encode.json','utf8'));
console.log(Object.keys(enc));
for (const dev of ['wasm','cpu'] as const){
  console.log(await selectTfjsDevice(dev));
  const m=BertModel.load(dir+'/tiny-bert');
  const inputs={inputIds: enc.input_ids ?? enc.inputs?.input_ids, attentionMask: enc.attention_mask ?? enc.inputs?.attention_mask};
  const h=m.forward(inputs);
  const mask=tf.tensor2d(inputs.attentionMask.flat(),[inputs.inputIds.length, inputs.inputIds[0].length]);
  const cls=l2Normalize(poolTf(h,mask,'cls')).arraySync(); const mean=poolTf(h,mask,'mean').arraySync();
  let e1=0,e2=0; cls.forEach((r,i)=>r.forEach((v,j)=>e1=Math.max(e1,Math.abs(v-enc.cls_normalized[i][j]))));
  mean.forEach((r,i)=>r.forEach((v,j)=>e2=Math.max(e2,Math.abs(v-enc.mean_unnormalized[i][j]))));
  console.log(dev,'cls err',e1,'mean err',e2);
  m.dispose();
}

});
