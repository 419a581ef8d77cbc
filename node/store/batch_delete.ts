/** Deleting many keys in as few commits as the KV limits allow. */

/** Keys deleted per commit (well under MAX_MUTATIONS). */
const DELETE_BATCH = 500;

/** Collects keys to delete and commits them 500 at a time; `flush` commits the rest. */
export function batchDelete(kv: Deno.Kv): {
  add(key: Deno.KvKey): Promise<void>;
  flush(): Promise<void>;
} {
  let doomed: Deno.KvKey[] = [];
  const flush = async () => {
    if (doomed.length === 0) return;
    const op = kv.atomic();
    for (const k of doomed) op.delete(k);
    doomed = [];
    await op.commit();
  };
  return {
    add: async (key) => {
      doomed.push(key);
      if (doomed.length >= DELETE_BATCH) await flush();
    },
    flush,
  };
}
