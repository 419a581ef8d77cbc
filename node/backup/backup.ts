/**
 * Writing a backup of a data folder: a consistent snapshot of the store
 * (snapshot.ts), the key and public key as they are (a key protected by a
 * passphrase stays protected by it), and a manifest, packed as ustar
 * (npm:modern-tar) and encrypted with a passphrase as an age file
 * (npm:age-encryption, age-encryption.org/v1: scrypt, then ChaCha20-Poly1305
 * in 64 KiB chunks), streamed, so memory stays small whatever the store's
 * size. Anyone with `age -d` and `tar` can open it; the passphrase is all it
 * takes, so it is asked for, never stored.
 *
 * The file is written under a temporary name beside `out` (0600) and renamed
 * at the end: a failed or interrupted backup leaves no half file under `out`.
 */
import { dirname } from "node:path";
import { Encrypter } from "age-encryption";
import { createTarPacker, type TarPackController } from "modern-tar";
import { type Clock, systemClock } from "../clock/mod.ts";
import { RojError } from "../errors.ts";
import { dataPaths } from "../home/mod.ts";
import { BACKUP_FORMAT, fingerprint, parsePublicKeyLine } from "../identity/mod.ts";
import { keys } from "../store/mod.ts";
import {
  type BackupFile,
  type Manifest,
  MANIFEST_NAME,
  MAX_KEY_BYTES,
  MAX_STORE_BYTES,
} from "./manifest.ts";
import { snapshotStore } from "./snapshot.ts";

export interface BackupOptions {
  /** The data folder (its node may be running). */
  readonly dataDir: string;
  /** The backup file to write; must not exist. */
  readonly out: string;
  readonly passphrase: string;
  /** @default systemClock */
  readonly clock?: Clock;
  /** scrypt's work factor, log2 N. @default 18 (age's own default) */
  readonly scryptLogN?: number;
}

export interface BackupSummary {
  readonly out: string;
  /** Size of the backup file. */
  readonly bytes: number;
  readonly manifest: Manifest;
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

async function readSmall(path: string): Promise<Uint8Array | null> {
  const info = await statOrNull(path);
  if (!info) return null;
  if (!info.isFile || info.size > MAX_KEY_BYTES) {
    throw new RojError("key_malformed", `${path} is not a key file Roj wrote`);
  }
  return await Deno.readFile(path);
}

/** Where an adopted key lives, read from the snapshot (not the live store). */
async function keyFileOf(snapshot: string): Promise<string | null> {
  const kv = await Deno.openKv(snapshot);
  try {
    const v = (await kv.get<unknown>(keys.setting("keyFile"))).value;
    return typeof v === "string" ? v : null;
  } finally {
    kv.close();
  }
}

async function addFile(
  tar: TarPackController,
  name: string,
  body: Uint8Array | string,
  size: number,
): Promise<void> {
  const w = tar.add({ name, size, type: "file", mode: 0o600, mtime: new Date(0) });
  if (typeof body === "string") {
    const file = await Deno.open(body, { read: true });
    await file.readable.pipeTo(w);
  } else {
    const writer = w.getWriter();
    await writer.write(body);
    await writer.close();
  }
}

/**
 * Writes an encrypted backup of `dataDir` to `out`.
 * @throws {RojError} not_found without an identity in the folder; exists when
 *   `out` exists; bad_input for an empty passphrase; store_corrupt.
 */
export async function writeBackup(o: BackupOptions): Promise<BackupSummary> {
  if (o.passphrase === "") throw new RojError("bad_input", "the backup's passphrase is empty");
  const paths = dataPaths(o.dataDir);
  const pub = await readSmall(paths.publicKey);
  if (!pub || !await statOrNull(paths.store)) {
    throw new RojError("not_found", `no identity in ${o.dataDir}: nothing to back up`);
  }
  if (await statOrNull(o.out)) {
    throw new RojError("exists", `${o.out} exists; give another --out (nothing was written)`);
  }
  const { publicKey, comment } = parsePublicKeyLine(new TextDecoder().decode(pub));
  const key = await readSmall(paths.key);
  // In the data folder (0700), private from the start; gone at the end, whatever happens.
  const snapshot = await Deno.makeTempFile({ dir: o.dataDir, prefix: ".backup-", suffix: ".kv" });
  let partial: string | null = null;
  try {
    const created = (o.clock ?? systemClock).now();
    await snapshotStore(paths.store, snapshot);
    const keyFile = await keyFileOf(snapshot);
    const storeSize = (await Deno.stat(snapshot)).size;
    if (storeSize > MAX_STORE_BYTES) {
      throw new RojError(
        "bad_input",
        `the store is over ${MAX_STORE_BYTES} bytes: too large to back up`,
      );
    }
    const files: { name: BackupFile; size: number }[] = [
      ...(key ? [{ name: "id_ed25519" as const, size: key.length }] : []),
      { name: "id_ed25519.pub", size: pub.length },
      { name: "roj.kv", size: storeSize },
    ];
    const manifest: Manifest = {
      format: BACKUP_FORMAT,
      created,
      name: comment.slice(0, 200),
      fingerprint: fingerprint(publicKey),
      keyFile,
      files,
    };
    const { readable, controller } = createTarPacker();
    const packing = (async () => {
      const m = new TextEncoder().encode(JSON.stringify(manifest));
      await addFile(controller, MANIFEST_NAME, m, m.length);
      if (key) await addFile(controller, "id_ed25519", key, key.length);
      await addFile(controller, "id_ed25519.pub", pub, pub.length);
      await addFile(controller, "roj.kv", snapshot, storeSize);
      controller.finalize();
    })();
    const age = new Encrypter();
    age.setPassphrase(o.passphrase);
    if (o.scryptLogN !== undefined) age.setScryptWorkFactor(o.scryptLogN);
    const sealed = await age.encrypt(readable);
    partial = await Deno.makeTempFile({
      dir: dirname(o.out),
      prefix: ".roj-backup-",
      suffix: ".partial",
    });
    const file = await Deno.open(partial, { write: true, truncate: true });
    await Promise.all([sealed.pipeTo(file.writable), packing]);
    await Deno.rename(partial, o.out);
    partial = null;
    return { out: o.out, bytes: (await Deno.stat(o.out)).size, manifest };
  } finally {
    await Deno.remove(snapshot).catch(() => {});
    for (const extra of ["-journal", "-wal", "-shm"]) {
      await Deno.remove(`${snapshot}${extra}`).catch(() => {});
    }
    if (partial) await Deno.remove(partial).catch(() => {});
  }
}
