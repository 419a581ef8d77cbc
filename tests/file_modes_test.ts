/**
 * The data folder is its owner's alone (issue 17, item 11): a folder made
 * 0755 under umask 022, then `roj init`, an open and `roj run` (real
 * processes): the folder ends 0700, the key and the store files (with -wal
 * and -shm) 0600; what had to be tightened is returned once (Profile.tightened)
 * and said once, and a start with nothing to tighten says nothing.
 */
import assert from "node:assert/strict";
import { openProfile } from "../node/home/mod.ts";
import { storeFiles, tightenedNotice } from "../node/store/mod.ts";
import { freePort, rojProcess } from "../testing/cli_run.ts";
import { spawnNode } from "../testing/processes.ts";
import { tempDir } from "../testing/temp.ts";

const modeOf = async (path: string) => (await Deno.stat(path)).mode! & 0o777;
const exists = (path: string) => Deno.lstat(path).then(() => true, () => false);

/** Every file of the folder that holds secrets is 0600, the folder 0700. */
async function assertPrivate(dir: string): Promise<void> {
  assert.equal(await modeOf(dir), 0o700, dir);
  assert.equal(await modeOf(`${dir}/id_ed25519`), 0o600, "the key");
  for (const f of storeFiles(`${dir}/roj.kv`)) {
    if (await exists(f)) assert.equal(await modeOf(f), 0o600, f);
  }
}

/** How many times `text` holds `part`. */
const count = (text: string, part: string) => text.split(part).length - 1;

Deno.test("a 0755 data folder under umask 022 ends 0700 with 0600 files, said once", async () => {
  if (Deno.build.os === "windows") return;
  await using d = await tempDir();
  const dir = `${d.path}/data`;
  await Deno.mkdir(dir);
  await Deno.chmod(dir, 0o755);

  // roj init in it: the folder is closed and said so; the files are born private.
  const init = await rojProcess(["init", "--data", dir, "--name", "amy"], { umask: 0o022 });
  assert.equal(init.code, 0, init.stderr);
  await assertPrivate(dir);
  const folderNotice = tightenedNotice([{ path: dir, from: 0o755, to: 0o700 }])!;
  assert.equal(count(init.stderr, folderNotice), 1, init.stderr);

  // As a copy made with the umask's modes would be: opening tightens it all and says what.
  const loosen = async () => {
    await Deno.chmod(dir, 0o755);
    await Deno.chmod(`${dir}/id_ed25519`, 0o644);
    await Deno.chmod(`${dir}/roj.kv`, 0o644);
  };
  await loosen();
  const opened = await openProfile(dir);
  opened.store.close();
  assert.deepEqual(
    opened.tightened.map((c) => [c.path, c.from, c.to]),
    [
      [dir, 0o755, 0o700],
      [`${dir}/id_ed25519`, 0o644, 0o600],
      [`${dir}/roj.kv`, 0o644, 0o600],
    ],
  );
  await assertPrivate(dir);
  const again = await openProfile(dir);
  again.store.close();
  assert.deepEqual(again.tightened, [], "nothing left to tighten");

  // roj run on a loosened folder: private while it runs (-wal and -shm too), said once.
  await loosen();
  const listen = `127.0.0.74:${freePort("127.0.0.74")}`;
  const old = Deno.umask(0o022);
  let run;
  try {
    run = await spawnNode(dir, listen, "amy");
  } finally {
    Deno.umask(old);
  }
  try {
    await assertPrivate(dir);
    for (const f of storeFiles(`${dir}/roj.kv`)) assert.ok(await exists(f), `${f} while open`);
  } finally {
    await run.stop();
  }
  const notice = tightenedNotice([
    { path: dir, from: 0o755, to: 0o700 },
    { path: `${dir}/id_ed25519`, from: 0o644, to: 0o600 },
    { path: `${dir}/roj.kv`, from: 0o644, to: 0o600 },
  ])!;
  assert.equal(count(run.output(), notice), 1, run.output());

  // Started again with nothing to tighten: no notice at all.
  const quiet = await spawnNode(dir, listen, "amy");
  await quiet.stop();
  assert.equal(count(quiet.output(), " -> 0"), 0, quiet.output());
  await assertPrivate(dir);
});
