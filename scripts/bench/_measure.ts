/** Small helpers for benchmarks: medians of repeated runs, rates, a table. */

export interface Row {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly note?: string;
}

export function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** Runs `fn` (which does `count` operations) `runs` times; the median rate in ops/s. */
export async function rate(
  runs: number,
  count: number,
  fn: (run: number) => Promise<void>,
): Promise<number> {
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await fn(r);
    rates.push(count / ((performance.now() - t0) / 1000));
  }
  return median(rates);
}

export function printTable(title: string, rows: Row[]): void {
  console.log(`\n## ${title}\n`);
  console.log("| measure | median | unit | note |");
  console.log("| --- | ---: | --- | --- |");
  for (const r of rows) {
    const v = r.value >= 100 ? Math.round(r.value).toLocaleString("en-US") : r.value.toFixed(2);
    console.log(`| ${r.name} | ${v} | ${r.unit} | ${r.note ?? ""} |`);
  }
}

/** `p`, or an error naming `what` after `timeoutMs`. */
export async function withTimeout<T>(p: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
