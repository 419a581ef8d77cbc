/**
 * Per-peer redial delays: quick at first, then exponentially slower with
 * jitter, so a hive of nodes that lost their network together do not all dial
 * at the same instant when it returns.
 */
import { systemClock } from "../clock/mod.ts";
export interface BackoffOptions {
  /** @default 500 */
  readonly initialMs?: number;
  /** @default 30000 */
  readonly maxMs?: number;
  /** Jitter in [0, 1). @default systemClock.random */
  readonly random?: () => number;
}

export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 500;
  const max = options.maxMs ?? 30_000;
  const base = Math.min(max, initial * 2 ** Math.max(0, attempt));
  const r = (options.random ?? systemClock.random)();
  return Math.round(base * (0.75 + r * 0.5));
}
