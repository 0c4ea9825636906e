import { it } from 'vitest';
import OpenAI from 'openai';
import { startModelServer } from '../../../src/server/llamaServer';
import { createOnnxEmbedder } from '../../../src/core/embeddings/onnxEmbedder';
import { CHAT_MODEL_PATH, EMBEDDER_DIR } from '../localModelsSetup';

it('bench', async () => {
  const rows: string[] = [];
  for (const threads of [1, 2]) {
    const t0 = performance.now();
    const server = await startModelServer({ modelPath: CHAT_MODEL_PATH, port: 0, gpu: false, threads, contextSize: 4096 });
    const load = performance.now() - t0;
    const client = new OpenAI({ baseURL: server.url, apiKey: 'x', maxRetries: 0 });
    const speeds: number[] = []; const pps: number[] = [];
    for (let r = 0; r < 3; r++) {
      const start = performance.now(); let first = 0; let usage: any;
      const stream = await client.chat.completions.create({ model: server.model, messages: [{ role: 'user', content: `Story ${r}: write a long story about a dragon who learns to program computers.` }], max_tokens: 200, temperature: 0, stream: true, stream_options: { include_usage: true } });
      for await (const c of stream) { if (!first && c.choices[0]?.delta.content) first = performance.now(); if (c.usage) usage = c.usage; }
      const end = performance.now();
      speeds.push((usage.completion_tokens - 1) / ((end - first) / 1000));
      pps.push(usage.prompt_tokens / ((first - start) / 1000));
    }
    await server.close();
    rows.push(`chat threads=${threads} load=${load.toFixed(0)}ms gen tok/s=${speeds.map((s) => s.toFixed(1)).join(',')} prompt tok/s(ttft-based)=${pps.map((s) => s.toFixed(0)).join(',')}`);
  }
  const sentences = Array.from({ length: 256 }, (_, i) => `Sentence number ${i}: the memory manager decides whether to add, update or delete facts about the project.`);
  for (const threads of [1, 2]) {
    const e = await createOnnxEmbedder(EMBEDDER_DIR, { threads });
    await e.embed(sentences.slice(0, 32));
    const t = performance.now();
    await e.embed(sentences);
    const dt = (performance.now() - t) / 1000;
    rows.push(`embedder threads=${threads} ${(sentences.length / dt).toFixed(1)} sentences/s (${e.countTokens([sentences[0]])[0]} tokens each)`);
    await e.close();
  }
  console.log('\n' + rows.join('\n'));
}, 600_000);
