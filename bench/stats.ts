export interface Latency {
  p50: number;
  p99: number;
  max: number;
  n: number;
}

const round = (x: number) => Math.round(x * 100) / 100;

export function latency(samples: number[]): Latency {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
  return { p50: round(q(0.5)), p99: round(q(0.99)), max: round(s.at(-1) ?? 0), n: s.length };
}
