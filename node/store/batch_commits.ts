/** Writing many changes in as few commits as the KV limits allow. */

/** Mutations per commit (well under Deno KV's limit of 1,000). */
const MUTATIONS_PER_COMMIT = 500;

/**
 * Collects changes and commits them about 500 mutations at a time; `flush`
 * commits the rest. Each `add` lands whole in one commit (a kill between
 * commits leaves every change done or not done).
 */
export function batchCommits(kv: Deno.Kv): {
  /** `apply` puts `mutations` mutations on the commit it lands in. */
  add(apply: (op: Deno.AtomicOperation) => void, mutations?: number): Promise<void>;
  flush(): Promise<void>;
} {
  let queued: Array<(op: Deno.AtomicOperation) => void> = [];
  let count = 0;
  const flush = async () => {
    if (queued.length === 0) return;
    const op = kv.atomic();
    for (const apply of queued) apply(op);
    queued = [];
    count = 0;
    await op.commit();
  };
  return {
    add: async (apply, mutations = 1) => {
      if (count + mutations > MUTATIONS_PER_COMMIT) await flush();
      queued.push(apply);
      count += mutations;
    },
    flush,
  };
}

/** Collects keys to delete and commits them 500 at a time; `flush` commits the rest. */
export function batchDelete(kv: Deno.Kv): {
  add(key: Deno.KvKey): Promise<void>;
  flush(): Promise<void>;
} {
  const batch = batchCommits(kv);
  return { add: (key) => batch.add((op) => void op.delete(key)), flush: batch.flush };
}
