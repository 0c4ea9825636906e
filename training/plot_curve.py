"""Draws the GRPO reward curve (metrics.jsonl from grpo_cpu.py) as a dependency-free SVG."""
import json
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
out = sys.argv[2]
W, H, L, B, T, R = 720, 320, 56, 40, 30, 20
series = [("reward", "#1f77b4", "sampled reward (group mean)"), ("greedy_reward", "#d62728", "greedy reward")]


def smooth(xs, k=9):
    return [sum(xs[max(0, i - k + 1) : i + 1]) / len(xs[max(0, i - k + 1) : i + 1]) for i in range(len(xs))]


n = max(1, len(rows))
x = lambda i: L + (W - L - R) * (i / max(1, n - 1))
y = lambda v: T + (H - T - B) * (1 - v)
parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">', f'<rect width="{W}" height="{H}" fill="white"/>']
for v in [0, 0.25, 0.5, 0.75, 1]:
    parts.append(f'<line x1="{L}" x2="{W - R}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/><text x="{L - 8}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
for i in range(0, n, max(1, n // 8)):
    parts.append(f'<text x="{x(i):.1f}" y="{H - B + 16}" text-anchor="middle">{rows[i]["step"] if rows else 0}</text>')
parts.append(f'<text x="{(L + W - R) / 2}" y="{H - 6}" text-anchor="middle">GRPO step (reward: mean over the step\'s prompts, smoothed over 9 steps)</text>')
for j, (key, color, label) in enumerate(series):
    vals = smooth([r[key] for r in rows]) if rows else []
    pts = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(vals))
    parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{pts}"/>')
    parts.append(f'<line x1="{L + 10 + 230 * j}" x2="{L + 30 + 230 * j}" y1="14" y2="14" stroke="{color}" stroke-width="2"/><text x="{L + 36 + 230 * j}" y="18">{label}</text>')
parts.append("</svg>")
open(out, "w").write("\n".join(parts))
print(f"wrote {out} ({len(rows)} steps)")
