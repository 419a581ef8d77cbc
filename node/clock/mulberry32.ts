/**
 * mulberry32, the one small seeded generator of the project: replayable from
 * its seed, for the FakeClock, the cascade's jitter (a pure function of its
 * state) and randomised tests. Not for key material.
 */

/** One step: a number in [0, 1) and the next state. */
export function mulberry32(state: number): [number, number] {
  const next = (state + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return [((t ^ (t >>> 14)) >>> 0) / 4294967296, next];
}

/** A generator of numbers in [0, 1) from `seed`. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    const [value, next] = mulberry32(state);
    state = next;
    return value;
  };
}
