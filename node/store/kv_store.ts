/**
 * Opening the node's Deno KV file, with schema migrations and checks that
 * turn a damaged store into a clear error instead of a crash. The file and
 * its -wal and -shm companions are the owner's alone (0600, private_files.ts).
 */
import { RojError } from "../errors.ts";
import { keys } from "./kv_keys.ts";
import { createPrivateFile, makePrivate, type ModeChange } from "./private_files.ts";

/**
 * The schema this code reads and writes. History:
 * 1: first release.
 * 2: log entries packed into one byte string (see log/stored_entry.ts; the
 *    objects of schema 1 are still read), stored once: the second copy by
 *    display order is gone (the migration deletes it).
 */
export const SCHEMA_VERSION = 2;

/** Deno KV allows at most this many mutations in one atomic commit. */
export const MAX_MUTATIONS = 1000;
/** Stay well under Deno KV's 800 KiB total size per atomic commit. */
export const MAX_COMMIT_BYTES = 600 * 1024;
/** Deno KV allows at most 80 KiB of keys in one atomic commit; stay under it. */
export const MAX_COMMIT_KEY_BYTES = 72 * 1024;

export interface Store {
  readonly kv: Deno.Kv;
  readonly path: string;
  close(): void;
}

/** A store as opened: also the modes that had to be tightened (none, mostly). */
export interface OpenedStore extends Store {
  /** Store files that others could read, each made 0600 before anything was read. */
  readonly tightened: readonly ModeChange[];
}

/** The files SQLite keeps for the store at `path`. */
export const storeFiles = (path: string) => [path, `${path}-wal`, `${path}-shm`] as const;

async function makeStorePrivate(path: string): Promise<ModeChange[]> {
  const changes = await Promise.all(storeFiles(path).map(makePrivate));
  return changes.filter((c) => c !== null);
}

/**
 * Opens (creating if needed) the store at `path` and brings it to
 * SCHEMA_VERSION. A new store file is created 0600 before SQLite opens it
 * (its -wal and -shm then take that mode); an existing one, and its -wal and
 * -shm, are made 0600 first if others could read them.
 * @throws {RojError} store_corrupt when the file is not a store or is from a newer Roj.
 * @throws {Deno.errors.PermissionDenied} when the files are not ours to chmod.
 */
export async function openStore(path: string): Promise<OpenedStore> {
  const tightened = path === ":memory:" ? [] : await makeStorePrivate(path);
  let kv: Deno.Kv;
  try {
    if (path !== ":memory:") await createPrivateFile(path);
    kv = await Deno.openKv(path);
  } catch (err) {
    throw new RojError(
      "store_corrupt",
      `cannot open the store at ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  try {
    const v = await kv.get<unknown>(keys.schema());
    if (v.value === null) {
      await kv.set(keys.schema(), SCHEMA_VERSION);
    } else if (typeof v.value !== "number" || !Number.isInteger(v.value)) {
      throw new RojError("store_corrupt", `the store at ${path} has a damaged schema marker`);
    } else if (v.value > SCHEMA_VERSION) {
      throw new RojError(
        "store_corrupt",
        `the store at ${path} was written by a newer Roj (schema ${v.value})`,
      );
    } else if (v.value < SCHEMA_VERSION) {
      // One step per version; each may be cut short by a crash and run again.
      if (v.value < 2) await dropKeys(kv, keys.allOrdered());
      await kv.set(keys.schema(), SCHEMA_VERSION);
    }
  } catch (err) {
    kv.close();
    if (err instanceof RojError) throw err;
    throw new RojError(
      "store_corrupt",
      `the store at ${path} is unreadable: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return { kv, path, close: () => kv.close(), tightened };
}

/** Deletes every key under `prefix`, in batches that fit a commit. */
async function dropKeys(kv: Deno.Kv, prefix: Deno.KvKey): Promise<void> {
  for (;;) {
    const op = kv.atomic();
    let n = 0;
    for await (const res of kv.list({ prefix }, { limit: 500 })) {
      op.delete(res.key);
      n++;
    }
    if (n === 0) return;
    await op.commit();
  }
}

/** Throws store_corrupt with the key named, for a value that fails its shape check. */
export function corrupt(key: Deno.KvKey, what: string): RojError {
  const shown = key.map((p) => (p instanceof Uint8Array ? `<${p.length} bytes>` : String(p))).join(
    "/",
  );
  return new RojError("store_corrupt", `the store holds a damaged ${what} at ${shown}`);
}
