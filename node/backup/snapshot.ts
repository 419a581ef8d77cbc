/**
 * A consistent copy of a node's store while the node may be writing to it.
 *
 * Deno KV keeps its data in SQLite (WAL mode), so the copy is made with
 * SQLite's online backup API (node:sqlite `backup`) in one step: it reads
 * every page under a single read transaction on a connection of its own,
 * which sees one committed state of the database (the WAL included), however
 * many commits the running node makes meanwhile, and never blocks them. The
 * copy is what a crash at that moment would have left, and a node is built
 * to start from that (tests/crash_test.ts). A `kv.list` cannot do this: it
 * reads in batches, each its own snapshot. No cooperation of the node is
 * needed, so a backup works the same whether it runs or not.
 */
import { backup, DatabaseSync } from "node:sqlite";
import { RojError } from "../errors.ts";

/**
 * Copies the store at `storePath` into `destPath` (a new file, ideally created
 * 0600 beforehand).
 * @throws {RojError} store_corrupt when the store cannot be read.
 */
export async function snapshotStore(storePath: string, destPath: string): Promise<void> {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(storePath, { readOnly: true });
  } catch {
    // A read-only connection cannot recover a WAL left by a crash; a writable one can.
    try {
      db = new DatabaseSync(storePath);
    } catch (err) {
      throw new RojError("store_corrupt", `cannot open the store at ${storePath}`, { cause: err });
    }
  }
  try {
    // rate -1: every page in one step, so no commit of the node's can come between two.
    await backup(db, destPath, { rate: -1 });
  } catch (err) {
    throw new RojError(
      "store_corrupt",
      `cannot copy the store at ${storePath}: ${(err as Error).message}`,
      { cause: err },
    );
  } finally {
    db.close();
  }
}
