/**
 * Bringing a backup (backup.ts) back into a new data folder.
 *
 * Nothing is overwritten: the target must be missing or an empty folder.
 * The passphrase is checked on the file's header before anything is made;
 * then the archive is unpacked into a fresh folder (0700) beside the target,
 * each file checked against the manifest (names, order, sizes, bounds) and
 * written 0600 (the public key 0644, as `roj init` writes it). Only when the
 * whole file has decrypted and authenticated (age authenticates every 64 KiB
 * chunk and marks the last, so a truncated file fails at its end) and the
 * store opens is that folder renamed to the target. Any failure removes it
 * and says why.
 *
 * The restored node's next address record must replace whatever it published
 * after the backup was taken, which its contacts hold and this store does not
 * know: the restore sets a floor for its sequence numbers (the current time in
 * seconds, far above any count of records one node publishes) that
 * discovery/ takes as it opens.
 */
import { basename, dirname } from "node:path";
import { Decrypter } from "age-encryption";
import { createTarDecoder, type ParsedTarEntry } from "modern-tar";
import { type Clock, systemClock } from "../clock/mod.ts";
import { RojError } from "../errors.ts";
import { dataPaths } from "../home/mod.ts";
import { keys, openStore } from "../store/mod.ts";
import {
  type Manifest,
  MANIFEST_NAME,
  manifestSchema,
  MAX_BACKUP_BYTES,
  MAX_MANIFEST_BYTES,
  maxBytesOf,
} from "./manifest.ts";

export interface RestoreOptions {
  /** The backup file. */
  readonly file: string;
  /** The data folder to create: missing or empty. */
  readonly dataDir: string;
  readonly passphrase: string;
  /** @default systemClock */
  readonly clock?: Clock;
}

export interface RestoreSummary {
  readonly dataDir: string;
  readonly manifest: Manifest;
}

/** The first line of every age file. */
const AGE_MAGIC = "age-encryption.org/v1\n";

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    const info = await Deno.lstat(dir);
    if (!info.isDirectory) return false;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return true;
    throw err;
  }
  for await (const _ of Deno.readDir(dir)) return false;
  return true;
}

/** Reads a whole entry body of at most `max` bytes. */
async function readBody(entry: ParsedTarEntry, max: number): Promise<Uint8Array> {
  const out = new Uint8Array(entry.header.size);
  let at = 0;
  for await (const chunk of entry.body) {
    if (at + chunk.length > Math.min(max, out.length)) throw new Error("entry over its size");
    out.set(chunk, at);
    at += chunk.length;
  }
  return out.subarray(0, at);
}

/** Writes an entry body to `path` with `mode`, checking its length as it goes. */
async function writeBody(entry: ParsedTarEntry, path: string, mode: number, size: number) {
  const file = await Deno.open(path, { write: true, createNew: true, mode });
  let n = 0;
  try {
    for await (const chunk of entry.body) {
      n += chunk.length;
      if (n > size) throw new Error(`${basename(path)} is longer than its manifest says`);
      let off = 0;
      while (off < chunk.length) off += await file.write(chunk.subarray(off));
    }
  } finally {
    file.close();
  }
  if (n !== size) throw new Error(`${basename(path)} ends early`);
  await Deno.chmod(path, mode);
}

const damaged = (file: string, why: string, cause?: unknown) =>
  new RojError(
    "bad_input",
    `${file} is truncated or damaged (${why}); nothing was restored`,
    cause === undefined ? {} : { cause },
  );

/**
 * Restores the backup `file` into `dataDir`.
 * @throws {RojError} exists for a non-empty target; not_found for a missing
 *   file; key_bad_passphrase for a wrong passphrase; bad_input for a file that
 *   is not a Roj backup, or is truncated or damaged. Nothing is left behind.
 */
export async function restoreBackup(o: RestoreOptions): Promise<RestoreSummary> {
  if (!await isEmptyOrMissing(o.dataDir)) {
    throw new RojError(
      "exists",
      `${o.dataDir} is not empty: restore into a new or empty folder (nothing was changed)`,
    );
  }
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(o.file);
  } catch (err) {
    throw new RojError("not_found", `no backup file at ${o.file}`, { cause: err });
  }
  if (!info.isFile || info.size > MAX_BACKUP_BYTES) {
    throw new RojError(
      "bad_input",
      `${o.file} is not a Roj backup (not a file of at most ${MAX_BACKUP_BYTES} bytes)`,
    );
  }
  const source = await Deno.open(o.file, { read: true });
  const head = new Uint8Array(AGE_MAGIC.length);
  const got = await source.read(head);
  await source.seek(0, Deno.SeekMode.Start);
  if (got !== head.length || new TextDecoder().decode(head) !== AGE_MAGIC) {
    source.close();
    throw new RojError("bad_input", `${o.file} is not a Roj backup (not an age-encrypted file)`);
  }
  const age = new Decrypter();
  age.addPassphrase(o.passphrase);
  let plain: ReadableStream<Uint8Array>;
  try {
    plain = await age.decrypt(source.readable);
  } catch (err) {
    try {
      source.close();
    } catch { /* the stream closed it */ }
    const msg = (err as Error).message;
    if (/no identity matched/.test(msg)) {
      throw new RojError(
        "key_bad_passphrase",
        `wrong passphrase for ${o.file} (nothing was restored)`,
        { cause: err },
      );
    }
    throw damaged(o.file, `its header: ${msg}`, err);
  }

  const parent = dirname(o.dataDir);
  await Deno.mkdir(parent, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: parent, prefix: `.${basename(o.dataDir)}.restore-` });
  try {
    await Deno.chmod(tmp, 0o700);
    const manifest = await unpack(plain, tmp, o.file);
    const paths = dataPaths(tmp);
    const store = await openStore(paths.store).catch((err) => {
      throw damaged(o.file, "its store does not open", err);
    });
    try {
      const now = (o.clock ?? systemClock).now();
      await store.kv.atomic()
        .set(keys.setting("recordSeqFloor"), Math.floor(now / 1000))
        // Our writes to direct chats wait until each peer gave back what we wrote since (chats/).
        .set(keys.restoreGate(), now)
        .commit();
    } finally {
      store.close();
    }
    // Only now does the target appear, whole; an empty folder there is replaced.
    await Deno.remove(o.dataDir).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
    await Deno.rename(tmp, o.dataDir);
    return { dataDir: o.dataDir, manifest };
  } catch (err) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw err;
  }
}

/** Unpacks the archive into `dir`, by the manifest; returns it. */
async function unpack(
  plain: ReadableStream<Uint8Array>,
  dir: string,
  file: string,
): Promise<Manifest> {
  let manifest: Manifest | null = null;
  let next = 0;
  try {
    for await (const entry of plain.pipeThrough(createTarDecoder({ strict: true }))) {
      const name = entry.header.name;
      if (manifest === null) {
        if (name !== MANIFEST_NAME || entry.header.size > MAX_MANIFEST_BYTES) {
          throw new RojError("bad_input", `${file} is not a Roj backup (no manifest first)`);
        }
        const parsed = manifestSchema.safeParse(
          JSON.parse(new TextDecoder().decode(await readBody(entry, MAX_MANIFEST_BYTES))),
        );
        if (!parsed.success) {
          throw new RojError(
            "bad_input",
            `${file} is not a Roj backup this version reads (its manifest: ${
              parsed.error.issues[0]?.message ?? "invalid"
            })`,
          );
        }
        manifest = parsed.data;
        continue;
      }
      const want = manifest.files[next];
      if (!want || want.name !== name || entry.header.size !== want.size) {
        throw damaged(file, `unexpected entry ${JSON.stringify(name.slice(0, 60))}`);
      }
      if (want.size > maxBytesOf(want.name)) throw damaged(file, `${want.name} is too large`);
      await writeBody(
        entry,
        `${dir}/${want.name}`,
        want.name === "id_ed25519.pub" ? 0o644 : 0o600,
        want.size,
      );
      next++;
    }
  } catch (err) {
    if (err instanceof RojError) throw err;
    throw damaged(file, (err as Error).message, err);
  }
  if (manifest === null) throw damaged(file, "no manifest");
  if (next !== manifest.files.length) throw damaged(file, "files missing at its end");
  return manifest;
}
