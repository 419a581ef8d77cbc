/** Test helpers: temporary folders and stores that clean up after themselves. */
import { openStore, type Store } from "../node/store/mod.ts";

export interface TempDir extends AsyncDisposable {
  readonly path: string;
}

export async function tempDir(prefix = "roj-test-"): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }).catch(() => {}),
  };
}

export interface TempStore extends AsyncDisposable {
  readonly store: Store;
  readonly dir: string;
}

export async function tempStore(): Promise<TempStore> {
  const dir = await Deno.makeTempDir({ prefix: "roj-kv-" });
  const store = await openStore(`${dir}/roj.kv`);
  return {
    store,
    dir,
    [Symbol.asyncDispose]: async () => {
      store.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** A small seeded PRNG (mulberry32) so randomised tests can be replayed from the printed seed. */
export { seededRandom } from "../node/clock/mod.ts";

/** The seed from $ROJ_SEED, else a fresh one; printed so a failure can be replayed. */
export function testSeed(label: string): number {
  const fromEnv = Deno.env.get("ROJ_SEED");
  const seed = fromEnv ? Number(fromEnv) : Math.floor(Math.random() * 2 ** 31);
  console.log(`${label}: seed ${seed} (replay with ROJ_SEED=${seed})`);
  return seed;
}

export function shuffle<T>(items: T[], rand: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
