// Turns the harness's per-question records into the report: per-pipeline aggregates (scores by
// category, latency percentiles, tokens), a Markdown summary and a grouped bar chart drawn as SVG.
import type { QuestionResult, SampleRun } from './results';
import { CATEGORY_NAMES, type LocomoCategory } from './locomo';
import { PIPELINES, type PipelineName } from './pipelines';
import { type ScoreAggregate, aggregate, percentile } from './scoring';

/** Reporting order of the categories, as Memory-R1's tables list them. */
export const REPORT_CATEGORIES: readonly LocomoCategory[] = [4, 1, 3, 2];

export interface MetricInfo {
  id: string;
  name: string;
  description: string;
}

export const METRICS: readonly MetricInfo[] = [
  { id: 'mem0F1', name: 'F1 (Mem0)', description: "Mem0's evaluation: token F1 over sets of lower-cased tokens (punctuation .,!? removed)" },
  { id: 'mem0Bleu1', name: 'BLEU-1 (Mem0)', description: "Mem0's evaluation: nltk sentence BLEU-1 with smoothing method 1" },
  { id: 'locomoF1', name: 'F1 (LoCoMo official)', description: 'the LoCoMo paper scorer: stemmed token F1, multi-answer F1 for multi-hop, first clause of open-domain gold' },
  { id: 'exactMatch', name: 'Exact match', description: 'normalised exact match (case, punctuation, articles), the Answer Agent reward' },
  { id: 'judge', name: 'LLM judge (J)', description: "share of answers the judge model labels CORRECT with Mem0's ACCURACY_PROMPT" },
];

export interface Spread {
  p50: number | null;
  p95: number | null;
  n: number;
}

export interface PipelineReport {
  name: PipelineName;
  description: string;
  /** Scored questions answered. */
  questions: number;
  scores: ScoreAggregate;
  latencyMs: { search: Spread; answer: Spread; manager: Spread; extract: Spread; event: Spread; judge: Spread };
  tokens: {
    /** Mean prompt + completion tokens of the answer call per question. */
    answerPerQuestion: number | null;
    /** Extraction + manager tokens over the samples it answered. */
    ingestTotal: number;
    ingestPerQuestion: number | null;
    judgeTotal: number;
  };
  ingest: { events: number; turns: number; facts: number; operations: Record<string, number> };
  skipped: { sampleId: string; reason: string }[];
  judgeErrors: number;
}

export interface EvalReport {
  generatedAt: string;
  config: Record<string, unknown>;
  metrics: MetricInfo[];
  categories: { id: LocomoCategory; name: string }[];
  pipelines: PipelineReport[];
  samples: SampleRun[];
  notes: string[];
  questions: QuestionResult[];
}

export function buildReport(input: {
  config: Record<string, unknown>;
  pipelines: PipelineName[];
  sampleRuns: SampleRun[];
  results: QuestionResult[];
  judged: boolean;
}): EvalReport {
  const metrics = METRICS.filter((m) => m.id !== 'judge' || input.judged || input.results.some((r) => r.scores.judge !== undefined));
  const pipelines = input.pipelines.map((name) => pipelineReport(name, input.sampleRuns, input.results));
  const notes: string[] = [];
  for (const p of pipelines) {
    for (const s of p.skipped) notes.push(`${p.name} skipped ${s.sampleId}: ${s.reason}.`);
    if (p.judgeErrors) notes.push(`${p.name}: the judge gave no label for ${p.judgeErrors} answer(s); they are left out of J.`);
  }
  const seen = new Set<string>();
  for (const s of input.sampleRuns) {
    if (seen.has(s.sampleId) || s.questionsOutsideIngested === 0) continue;
    seen.add(s.sampleId);
    notes.push(`${s.sampleId}: ${s.questionsOutsideIngested} scored question(s) left out because their evidence lies beyond the turns fed (--max-turns).`);
  }
  return {
    generatedAt: new Date().toISOString(),
    config: input.config,
    metrics,
    categories: REPORT_CATEGORIES.map((id) => ({ id, name: CATEGORY_NAMES[id] })),
    pipelines,
    samples: input.sampleRuns,
    notes,
    questions: input.results,
  };
}

function pipelineReport(name: PipelineName, sampleRuns: SampleRun[], results: QuestionResult[]): PipelineReport {
  const mine = results.filter((r) => r.pipeline === name);
  const runs = sampleRuns.filter((s) => s.pipeline === name);
  const answeredSamples = new Set(mine.map((r) => r.sampleId));
  const active = runs.filter((s) => !s.skipped);
  const ingestTotal = active
    .filter((s) => answeredSamples.has(s.sampleId))
    .reduce((n, s) => n + s.stats.usage.promptTokens + s.stats.usage.completionTokens, 0);
  const operations: Record<string, number> = {};
  for (const s of active) for (const [k, v] of Object.entries(s.stats.operations)) operations[k] = (operations[k] ?? 0) + (v ?? 0);
  return {
    name,
    description: PIPELINES[name].description,
    questions: mine.length,
    scores: aggregate(mine),
    latencyMs: {
      search: spread(name === 'full-context' ? [] : mine.map((r) => r.latencyMs.search)),
      answer: spread(mine.map((r) => r.latencyMs.answer)),
      manager: spread(active.flatMap((s) => s.stats.managerMs)),
      extract: spread(active.flatMap((s) => s.stats.extractMs)),
      event: spread(active.flatMap((s) => s.eventMs)),
      judge: spread(mine.flatMap((r) => (r.judge ? [r.judge.ms] : []))),
    },
    tokens: {
      answerPerQuestion: mine.length ? mine.reduce((n, r) => n + r.tokens.prompt + r.tokens.completion, 0) / mine.length : null,
      ingestTotal,
      ingestPerQuestion: mine.length ? ingestTotal / mine.length : null,
      judgeTotal: mine.reduce((n, r) => n + (r.judge ? r.judge.promptTokens + r.judge.completionTokens : 0), 0),
    },
    ingest: {
      events: active.reduce((n, s) => n + s.eventsIngested, 0),
      turns: active.reduce((n, s) => n + s.turnsIngested, 0),
      facts: active.reduce((n, s) => n + s.stats.facts, 0),
      operations,
    },
    skipped: runs.filter((s) => s.skipped).map((s) => ({ sampleId: s.sampleId, reason: s.skipped! })),
    judgeErrors: mine.filter((r) => r.judgeError).length,
  };
}

function spread(values: number[]): Spread {
  if (values.length === 0) return { p50: null, p95: null, n: 0 };
  return { p50: percentile(values, 50), p95: percentile(values, 95), n: values.length };
}

// ---------------------------------------------------------------- Markdown

/** A score mean on the 0–100 scale the papers use; '—' when there is none. */
function pct(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '—' : (v * 100).toFixed(1);
}

function ms(v: number | null): string {
  if (v === null) return '—';
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : v < 10 ? `${v.toFixed(1)} ms` : `${v.toFixed(0)} ms`;
}

function num(v: number | null): string {
  return v === null ? '—' : Math.round(v).toLocaleString('en-US');
}

export function renderSummaryMarkdown(report: EvalReport): string {
  const c = report.config;
  const cats = report.categories;
  const lines: string[] = [
    '# LoCoMo evaluation',
    '',
    `- Data: \`${String(c.data)}\`, samples ${(c.samples as string[]).join(', ')}`,
    `- Questions: categories 1–4 (adversarial excluded)${c.limit !== null ? `, first ${String(c.limit)} per sample` : ''}${c.maxTurns !== null ? `, dialogue cut after ${String(c.maxTurns)} turns` : ''}; ${String(c.turnsPerEvent)} turn(s) per event; top-k ${String(c.topK)}`,
    `- Models: extractor \`${(c.models as Record<string, string>).extractor}\`, manager \`${(c.models as Record<string, string>).manager}\`, answer \`${(c.models as Record<string, string>).answer}\`; judge ${c.judgeModel ? `\`${String(c.judgeModel)}\`` : 'off'}; embedder \`${String(c.embedder)}\``,
    `- Generated ${report.generatedAt}`,
    '',
    'Scores are means ×100; "overall" weighs every question equally.',
    '',
  ];
  const header = `| pipeline | ${cats.map((k) => k.name).join(' | ')} | overall |`;
  const rule = `|---|${cats.map(() => '---:').join('|')}|---:|`;
  lines.push('## Questions', '', header, rule);
  for (const p of report.pipelines) {
    lines.push(`| ${p.name} | ${cats.map((k) => String(p.scores.byCategory[k.id]?.count ?? 0)).join(' | ')} | ${p.scores.overall.count} |`);
  }
  for (const m of report.metrics) {
    lines.push('', `## ${m.name}`, '', `_${m.description}._`, '', header, rule);
    for (const p of report.pipelines) {
      const row = cats.map((k) => pct(p.scores.byCategory[k.id]?.mean[m.id]));
      lines.push(`| ${p.name} | ${row.join(' | ')} | ${pct(p.scores.overall.mean[m.id])} |`);
    }
  }
  lines.push(
    '',
    '## Latency and tokens',
    '',
    '| pipeline | search p50 | search p95 | manager p50 | manager p95 | answer p50 | answer p95 | answer tokens / question | ingest tokens / question |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const p of report.pipelines) {
    const l = p.latencyMs;
    lines.push(
      `| ${p.name} | ${ms(l.search.p50)} | ${ms(l.search.p95)} | ${ms(l.manager.p50)} | ${ms(l.manager.p95)} | ${ms(l.answer.p50)} | ${ms(l.answer.p95)} | ${num(p.tokens.answerPerQuestion)} | ${num(p.tokens.ingestPerQuestion)} |`,
    );
  }
  lines.push('', '## Memory building', '', '| pipeline | events | turns | facts | ADD | UPDATE | DELETE | NOOP | event p50 |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const p of report.pipelines) {
    const o = p.ingest.operations;
    lines.push(
      `| ${p.name} | ${p.ingest.events} | ${p.ingest.turns} | ${p.ingest.facts} | ${o.ADD ?? 0} | ${o.UPDATE ?? 0} | ${o.DELETE ?? 0} | ${o.NOOP ?? 0} | ${ms(p.latencyMs.event.p50)} |`,
    );
  }
  lines.push('', '## Pipelines', '');
  for (const p of report.pipelines) lines.push(`- **${p.name}**: ${p.description}`);
  if (report.notes.length) {
    lines.push('', '## Notes', '');
    for (const n of report.notes) lines.push(`- ${n}`);
  }
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------- SVG

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1'];

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * One panel per metric (exact match left out: it is near zero for free-form answers), each a grouped
 * bar chart: the four categories and overall on the x axis, one bar per pipeline, 0–100 on the y axis.
 */
export function renderCategorySvg(report: EvalReport): string {
  const metrics = report.metrics.filter((m) => m.id !== 'exactMatch');
  const groups: { label: string; pick: (p: PipelineReport, metric: string) => number | undefined }[] = [
    ...report.categories.map((c) => ({ label: c.name, pick: (p: PipelineReport, metric: string) => p.scores.byCategory[c.id]?.mean[metric] })),
    { label: 'overall', pick: (p: PipelineReport, metric: string) => p.scores.overall.mean[metric] },
  ];
  const pipelines = report.pipelines;
  const width = 900;
  const left = 56;
  const right = 16;
  const legendHeight = 28 + 18 * Math.ceil(pipelines.length / 4);
  const panelHeight = 250;
  const plotTop = 34;
  const plotHeight = 170;
  const height = legendHeight + metrics.length * panelHeight + 10;
  const plotWidth = width - left - right;
  const groupWidth = plotWidth / groups.length;
  const barWidth = Math.min(28, (groupWidth - 16) / Math.max(1, pipelines.length));

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>LoCoMo scores per category and pipeline</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="18" font-size="15" font-weight="bold">LoCoMo scores per category (×100)</text>`,
  ];
  pipelines.forEach((p, i) => {
    const x = left + (i % 4) * 200;
    const y = 32 + Math.floor(i / 4) * 18;
    out.push(`<rect class="legend" x="${x}" y="${y}" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/>`);
    out.push(`<text x="${x + 17}" y="${y + 10}">${xml(p.name)}${p.questions === 0 ? ' (no answers)' : ''}</text>`);
  });
  metrics.forEach((m, mi) => {
    const top = legendHeight + mi * panelHeight;
    const y0 = top + plotTop + plotHeight;
    const yOf = (v: number) => y0 - Math.max(0, Math.min(1, v)) * plotHeight;
    out.push(`<g class="panel" data-metric="${xml(m.id)}">`);
    out.push(`<text x="${left}" y="${top + 20}" font-size="13" font-weight="bold">${xml(m.name)}</text>`);
    for (const t of [0, 0.25, 0.5, 0.75, 1]) {
      const y = yOf(t).toFixed(1);
      out.push(`<line x1="${left}" x2="${width - right}" y1="${y}" y2="${y}" stroke="${t === 0 ? '#333' : '#ddd'}" stroke-width="1"/>`);
      out.push(`<text x="${left - 6}" y="${(yOf(t) + 4).toFixed(1)}" text-anchor="end" fill="#555">${t * 100}</text>`);
    }
    groups.forEach((g, gi) => {
      const gx = left + gi * groupWidth;
      const start = gx + (groupWidth - barWidth * pipelines.length) / 2;
      pipelines.forEach((p, pi) => {
        const v = g.pick(p, m.id);
        const x = start + pi * barWidth;
        if (v === undefined || !Number.isFinite(v)) {
          out.push(`<text x="${(x + barWidth / 2).toFixed(1)}" y="${(y0 - 4).toFixed(1)}" text-anchor="middle" font-size="9" fill="#999">–</text>`);
          return;
        }
        const y = yOf(v);
        out.push(
          `<rect class="bar" data-pipeline="${xml(p.name)}" data-group="${xml(g.label)}" data-value="${(v * 100).toFixed(1)}" x="${(x + 1).toFixed(1)}" y="${y.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(y0 - y).toFixed(1)}" fill="${PALETTE[pi % PALETTE.length]}"><title>${xml(`${p.name}, ${g.label}: ${(v * 100).toFixed(1)}`)}</title></rect>`,
        );
        out.push(`<text x="${(x + barWidth / 2).toFixed(1)}" y="${(y - 3).toFixed(1)}" text-anchor="middle" font-size="9" fill="#333">${(v * 100).toFixed(0)}</text>`);
      });
      out.push(`<text x="${(gx + groupWidth / 2).toFixed(1)}" y="${(y0 + 18).toFixed(1)}" text-anchor="middle">${xml(g.label)}</text>`);
    });
    out.push('</g>');
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
