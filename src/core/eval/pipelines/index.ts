import { addOnlyPipeline } from './addOnly';
import { fullContextPipeline } from './fullContext';
import { mem0RealPipeline } from './mem0Real';
import { mem0V2Pipeline } from './mem0v2';
import { memoryR1Pipeline } from './memoryR1';
import { ragPipeline } from './rag';
import type { EvalPipeline, PipelineName } from './types';

export * from './types';

export const PIPELINES: Readonly<Record<PipelineName, EvalPipeline>> = {
  'memory-r1': memoryR1Pipeline,
  mem0: mem0RealPipeline,
  'mem0-v2': mem0V2Pipeline,
  'add-only': addOnlyPipeline,
  rag: ragPipeline,
  'full-context': fullContextPipeline,
};
