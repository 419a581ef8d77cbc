import assert from "node:assert/strict";
import { tempDir } from "../../testing/temp.ts";
import { createPrivateFile, makePrivate, openStore, storeFiles, tightenedNotice } from "./mod.ts";

const modeOf = async (path: string) => (await Deno.lstat(path)).mode! & 0o7777;

Deno.test("makePrivate takes group and other bits off files and own folders, once", async () => {
  await using d = await tempDir();
  const file = `${d.path}/f`;
  await Deno.writeTextFile(file, "x");
  await Deno.chmod(file, 0o664);
  assert.deepEqual(await makePrivate(file), { path: file, from: 0o664, to: 0o600 });
  assert.equal(await modeOf(file), 0o600);
  assert.equal(await makePrivate(file), null, "nothing more to do");

  const dir = `${d.path}/sub`;
  await Deno.mkdir(dir);
  await Deno.chmod(dir, 0o755);
  assert.deepEqual(await makePrivate(dir), { path: dir, from: 0o755, to: 0o700 });
  assert.equal(await modeOf(dir), 0o700);

  assert.equal(await makePrivate(`${d.path}/missing`), null);
  // A symlink's target is not ours to change.
  const target = `${d.path}/target`;
  await Deno.writeTextFile(target, "x");
  await Deno.chmod(target, 0o644);
  await Deno.symlink(target, `${d.path}/link`);
  assert.equal(await makePrivate(`${d.path}/link`), null);
  assert.equal(await modeOf(target), 0o644);
  // A shared sticky folder (like /tmp) stays as it is.
  const shared = `${d.path}/shared`;
  await Deno.mkdir(shared);
  await Deno.chmod(shared, 0o1777);
  assert.equal(await makePrivate(shared), null);
  assert.equal(await modeOf(shared), 0o1777);
});

Deno.test("createPrivateFile makes 0600 whatever the umask, and leaves an existing file be", async () => {
  await using d = await tempDir();
  const old = Deno.umask(0o277);
  try {
    await createPrivateFile(`${d.path}/a`);
  } finally {
    Deno.umask(old);
  }
  assert.equal(await modeOf(`${d.path}/a`), 0o600);
  await Deno.writeTextFile(`${d.path}/b`, "kept");
  await createPrivateFile(`${d.path}/b`);
  assert.equal(await Deno.readTextFile(`${d.path}/b`), "kept");
});

Deno.test("openStore: a new store and its -wal/-shm are 0600 under umask 022; an open one is tightened", async () => {
  await using d = await tempDir();
  const path = `${d.path}/roj.kv`;
  const old = Deno.umask(0o022);
  try {
    const s = await openStore(path);
    assert.deepEqual(s.tightened, []);
    await s.kv.set(["x"], 1);
    for (const f of storeFiles(path)) assert.equal(await modeOf(f), 0o600, f);
    s.close();
  } finally {
    Deno.umask(old);
  }
  // As an older Roj left it: everyone may read.
  for (const f of storeFiles(path)) await Deno.chmod(f, 0o644).catch(() => {});
  const s = await openStore(path);
  try {
    const kept = (await s.kv.get(["x"])).value;
    assert.equal(kept, 1);
    assert.ok(s.tightened.some((c) => c.path === path && c.from === 0o644 && c.to === 0o600));
    for (const f of storeFiles(path)) {
      const exists = await Deno.lstat(f).then(() => true, () => false);
      if (exists) assert.equal(await modeOf(f), 0o600, f);
    }
    assert.match(tightenedNotice(s.tightened)!, /roj\.kv 0644 -> 0600/);
    assert.equal(tightenedNotice([]), null);
  } finally {
    s.close();
  }
});
