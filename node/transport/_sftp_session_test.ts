/**
 * The SFTP session's edge cases, driven through a fake stream (no SSH), with
 * a view in memory and a fake clock.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { FakeClock, settle } from "../clock/mod.ts";
import { RojError } from "../errors.ts";
import { MAX_OPEN_HANDLES, MAX_READ_REPLY, SftpSession } from "./_sftp_session.ts";
import { SFTP_OPEN, SFTP_STATUS, type SftpStream } from "./_sftp_stream.ts";
import type { SftpChat, SftpView } from "./sftp_view.ts";

type Reply =
  | { type: "handle"; handle: Uint8Array }
  | { type: "status"; code: number; message: string }
  | { type: "data"; data: Uint8Array }
  | { type: "name"; names: Array<{ filename: string }> }
  | { type: "attrs"; attrs: { size: number; mode: number; mtime: number } };

class FakeStream extends EventEmitter implements SftpStream {
  ended = false;
  #onEnd!: () => void;
  /** Settles when the session closes the channel. */
  readonly closed = new Promise<void>((resolve) => (this.#onEnd = resolve));
  #nextId = 1;
  readonly #waiting = new Map<number, (r: Reply) => void>();

  #put(id: number, r: Reply): void {
    const w = this.#waiting.get(id);
    assert.ok(w, `one reply to request ${id}`);
    this.#waiting.delete(id);
    w(r);
  }
  handle(id: number, handle: Uint8Array) {
    this.#put(id, { type: "handle", handle });
  }
  status(id: number, code: number, message = "") {
    this.#put(id, { type: "status", code, message });
  }
  data(id: number, data: Uint8Array) {
    this.#put(id, { type: "data", data: new Uint8Array(data) });
  }
  name(id: number, names: Array<{ filename: string }>) {
    this.#put(id, { type: "name", names });
  }
  attrs(id: number, attrs: { size: number; mode: number; mtime: number }) {
    this.#put(id, { type: "attrs", attrs });
  }
  end() {
    this.ended = true;
    this.#onEnd();
  }

  /** Emits a request and resolves with its reply. */
  req(event: string, ...args: unknown[]): Promise<Reply> {
    const id = this.#nextId++;
    const p = new Promise<Reply>((resolve) => this.#waiting.set(id, resolve));
    this.emit(event, id, ...args);
    return p;
  }

  async open(path: string, pflags: number): Promise<Uint8Array> {
    const r = await this.req("OPEN", path, pflags, {});
    assert.equal(r.type, "handle", JSON.stringify(r));
    return (r as { handle: Uint8Array }).handle;
  }
}

class MemoryView implements SftpView {
  readonly stored: string[][] = [];
  failRead = false;
  failAppend = false;
  constructor(
    public content: Uint8Array,
    readonly chats: SftpChat[] = [{ name: "a", chat: "A" }],
  ) {}
  list() {
    return Promise.resolve(this.chats);
  }
  read(_chat: string) {
    if (this.failRead) return Promise.reject(new RojError("internal", "the store is closed"));
    return Promise.resolve(this.content);
  }
  async check(_chat: string, line: string) {
    await settle(1); // a check takes a turn of the event loop, as a real one does
    if (!line.startsWith("ok")) throw new RojError("bad_input", `not ok: ${line.slice(0, 10)}`);
  }
  append(_chat: string, lines: string[]) {
    if (this.failAppend) return Promise.reject(new RojError("seq_gap", "entry 3 arrived early"));
    this.stored.push(lines);
    return Promise.resolve(lines.length);
  }
}

const enc = (s: string) => new TextEncoder().encode(s);
const APPEND = SFTP_OPEN.WRITE | SFTP_OPEN.CREAT | SFTP_OPEN.APPEND;

function fake(view: SftpView, clock = new FakeClock()): FakeStream {
  const s = new FakeStream();
  new SftpSession(s, view, () => {}, clock).start();
  return s;
}

function assertStatus(r: Reply, code: number, message?: RegExp): void {
  assert.equal(r.type, "status", JSON.stringify(r));
  const st = r as { code: number; message: string };
  assert.equal(st.code, code, st.message);
  if (message) assert.match(st.message, message);
}

Deno.test("sftp (fake): READ answers in slices of at most 32 KiB, then EOF", async () => {
  const content = new Uint8Array(100_000).map((_, i) => i % 251);
  const s = fake(new MemoryView(content));
  const h = await s.open("/chats/a.log", SFTP_OPEN.READ);
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (;;) {
    const r = await s.req("READ", h, offset, 256 * 1024);
    if (r.type === "status") {
      assertStatus(r, SFTP_STATUS.EOF);
      break;
    }
    assert.equal(r.type, "data");
    const d = (r as { data: Uint8Array }).data;
    assert.ok(d.length <= MAX_READ_REPLY);
    parts.push(d);
    offset += d.length;
  }
  assert.deepEqual(new Uint8Array(parts.flatMap((p) => [...p])), content);
  const st = await s.req("FSTAT", h);
  assert.equal((st as { attrs: { size: number } }).attrs.size, content.length);
  assertStatus(await s.req("CLOSE", h), SFTP_STATUS.OK);
  assertStatus(await s.req("READ", h, 0, 10), SFTP_STATUS.FAILURE, /invalid handle/);
});

Deno.test("sftp (fake): appends only contiguously at the end; anything else stores nothing", async () => {
  const view = new MemoryView(enc("x\n"));
  const s = fake(view);
  let h = await s.open("/chats/a.log", APPEND);
  assertStatus(await s.req("WRITE", h, 2, enc("ok 1\n")), SFTP_STATUS.OK);
  assertStatus(
    await s.req("WRITE", h, 100, enc("ok 2\n")),
    SFTP_STATUS.FAILURE,
    /only appending at the end is allowed/,
  );
  assertStatus(await s.req("WRITE", h, 7, enc("ok 3\n")), SFTP_STATUS.FAILURE);
  assertStatus(await s.req("CLOSE", h), SFTP_STATUS.FAILURE, /nothing was stored/);
  assert.deepEqual(view.stored, []);

  // Writing at 0 (as plain `put` without TRUNC would) is refused too.
  h = await s.open("/chats/a.log", SFTP_OPEN.WRITE);
  assertStatus(await s.req("WRITE", h, 0, enc("ok\n")), SFTP_STATUS.FAILURE, /only appending/);
  assertStatus(await s.req("CLOSE", h), SFTP_STATUS.FAILURE);

  // Pipelined writes with lines split across them, empty and CRLF lines: all good.
  h = await s.open("/chats/a.log", APPEND);
  const w1 = s.req("WRITE", h, 2, enc("ok α\n\nok β-"));
  const w2 = s.req("WRITE", h, 2 + enc("ok α\n\nok β-").length, enc("continued\r\n  \nok γ\n"));
  assertStatus(await w1, SFTP_STATUS.OK);
  assertStatus(await w2, SFTP_STATUS.OK);
  const size = (await s.req("FSTAT", h)) as { attrs: { size: number } };
  assert.equal(size.attrs.size, 2 + enc("ok α\n\nok β-continued\r\n  \nok γ\n").length);
  assertStatus(await s.req("CLOSE", h), SFTP_STATUS.OK);
  assert.deepEqual(view.stored, [["ok α", "ok β-continued", "ok γ"]]);
});

Deno.test("sftp (fake): a bad line fails its WRITE, poisons the handle and stores nothing", async () => {
  const view = new MemoryView(enc("x\ny\n"));
  const s = fake(view);
  const h = await s.open("/chats/a.log", APPEND);
  const w1 = s.req("WRITE", h, 4, enc("ok\nbad line\n"));
  const w2 = s.req("WRITE", h, 16, enc("ok\n"));
  assertStatus(await w1, SFTP_STATUS.FAILURE, /^line 4: not ok: bad line$/);
  assertStatus(await w2, SFTP_STATUS.FAILURE, /line 4/);
  assertStatus(await s.req("CLOSE", h), SFTP_STATUS.FAILURE, /nothing was stored: line 4/);
  assert.deepEqual(view.stored, []);
});

Deno.test("sftp (fake): a partial last line or a failing append stores nothing", async () => {
  const view = new MemoryView(new Uint8Array());
  const s = fake(view);
  let h = await s.open("/chats/a.log", APPEND);
  assertStatus(await s.req("WRITE", h, 0, enc("ok 1\nok 2")), SFTP_STATUS.OK);
  assertStatus(await s.req("CLOSE", h), SFTP_STATUS.FAILURE, /line 2 does not end with a newline/);
  view.failAppend = true;
  h = await s.open("/chats/a.log", APPEND);
  assertStatus(await s.req("WRITE", h, 0, enc("ok 1\n")), SFTP_STATUS.OK);
  assertStatus(await s.req("CLOSE", h), SFTP_STATUS.FAILURE, /entry 3 arrived early/);
  assert.deepEqual(view.stored, []);
  // Nothing appended at all is fine.
  h = await s.open("/chats/a.log", APPEND);
  assertStatus(await s.req("CLOSE", h), SFTP_STATUS.OK);
});

Deno.test("sftp (fake): at most 4 handles and 8 MiB per upload", async () => {
  const view = new MemoryView(new Uint8Array());
  const s = fake(view);
  const handles = await Promise.all([
    s.open("/chats/a.log", SFTP_OPEN.READ),
    s.open("/chats/a.log", SFTP_OPEN.READ),
    s.open("/chats/a.log", SFTP_OPEN.READ),
    s.req("OPENDIR", "/chats").then((r) => (r as { handle: Uint8Array }).handle),
  ]);
  assertStatus(
    await s.req("OPEN", "/chats/a.log", SFTP_OPEN.READ, {}),
    SFTP_STATUS.FAILURE,
    /too many open files/,
  );
  assertStatus(await s.req("OPENDIR", "/"), SFTP_STATUS.FAILURE, /too many open files/);
  for (const h of handles) assertStatus(await s.req("CLOSE", h), SFTP_STATUS.OK);

  const h = await s.open("/chats/a.log", APPEND);
  const chunk = enc(("ok " + "z".repeat(256 * 1024 - 4) + "\n").repeat(4)); // 1 MiB
  for (let i = 0; i < 8; i++) {
    assertStatus(await s.req("WRITE", h, i * chunk.length, chunk), SFTP_STATUS.OK);
  }
  assertStatus(
    await s.req("WRITE", h, 8 * chunk.length, enc("ok\n")),
    SFTP_STATUS.FAILURE,
    /at most 8388608 bytes/,
  );
  assertStatus(await s.req("CLOSE", h), SFTP_STATUS.FAILURE, /nothing was stored/);
  assert.deepEqual(view.stored, []);
});

Deno.test("sftp (fake): view errors become FAILURE with their message", async () => {
  const view = new MemoryView(enc("x\n"));
  const s = fake(view);
  view.failRead = true;
  assertStatus(
    await s.req("OPEN", "/chats/a.log", SFTP_OPEN.READ, {}),
    SFTP_STATUS.FAILURE,
    /^the store is closed$/,
  );
  assertStatus(await s.req("STAT", "/chats/a.log"), SFTP_STATUS.FAILURE, /the store is closed/);
  assertStatus(await s.req("OPENDIR", "/chats"), SFTP_STATUS.FAILURE, /the store is closed/);
  // The slots taken by the failed opens were given back.
  view.failRead = false;
  for (let i = 0; i < MAX_OPEN_HANDLES; i++) await s.open("/chats/a.log", SFTP_OPEN.READ);
});

Deno.test("sftp (fake): the tree: REALPATH, odd names and refused operations", async () => {
  const view = new MemoryView(enc("x\n"), [
    { name: "a", chat: "A" },
    { name: "../evil", chat: "E" },
    { name: "a/b", chat: "AB" },
    { name: "..", chat: "DOTS" },
  ]);
  const s = fake(view);
  const realpath = async (p: string) => {
    const r = await s.req("REALPATH", p);
    return r.type === "name" ? r.names[0]!.filename : r;
  };
  assert.equal(await realpath("."), "/");
  assert.equal(await realpath(""), "/");
  assert.equal(await realpath("chats/../chats//a.log"), "/chats/a.log");
  assert.equal(await realpath("/../../chats/./"), "/chats");
  assertStatus(await s.req("REALPATH", "/chats/b.log"), SFTP_STATUS.NO_SUCH_FILE);
  assertStatus(await s.req("REALPATH", "/etc"), SFTP_STATUS.NO_SUCH_FILE);

  const dir = ((await s.req("OPENDIR", "/chats")) as { handle: Uint8Array }).handle;
  const listing = (await s.req("READDIR", dir)) as { names: Array<{ filename: string }> };
  assert.deepEqual(listing.names.map((n) => n.filename), [".", "..", "a.log"]);
  assertStatus(await s.req("READDIR", dir), SFTP_STATUS.EOF);
  for (const p of ["/chats/../evil.log", "/evil.log", "/chats/a/b.log", "/chats/...log"]) {
    assertStatus(await s.req("STAT", p), SFTP_STATUS.NO_SUCH_FILE, undefined);
  }
  const root = (await s.req("STAT", "/")) as { attrs: { mode: number } };
  assert.equal(root.attrs.mode, 0o40555);
  const file = (await s.req("LSTAT", "/chats/a.log")) as { attrs: { mode: number; size: number } };
  assert.deepEqual([file.attrs.mode, file.attrs.size], [0o100644, 2]);

  assertStatus(await s.req("OPEN", "/chats", APPEND, {}), SFTP_STATUS.PERMISSION_DENIED);
  assertStatus(await s.req("OPEN", "/", SFTP_OPEN.READ, {}), SFTP_STATUS.FAILURE, /folder/);
  assertStatus(
    await s.req("OPEN", "/chats/a.log", SFTP_OPEN.WRITE | SFTP_OPEN.CREAT | SFTP_OPEN.EXCL, {}),
    SFTP_STATUS.PERMISSION_DENIED,
    /already exists/,
  );
  const r = await s.open("/chats/a.log", SFTP_OPEN.READ);
  assertStatus(await s.req("WRITE", r, 2, enc("ok\n")), SFTP_STATUS.PERMISSION_DENIED);
  assertStatus(await s.req("FSETSTAT", r, {}), SFTP_STATUS.PERMISSION_DENIED);
  assertStatus(await s.req("READLINK", "/chats/a.log"), SFTP_STATUS.OP_UNSUPPORTED);
  assertStatus(
    await s.req("EXTENDED", "posix-rename@openssh.com", undefined),
    SFTP_STATUS.OP_UNSUPPORTED,
  );
});

Deno.test("sftp (fake): at the client's EOF the channel closes after pending replies", async () => {
  const view = new MemoryView(new Uint8Array());
  const s = fake(view);
  const h = await s.open("/chats/a.log", APPEND);
  const write = s.req("WRITE", h, 0, enc("ok\n"));
  const close = s.req("CLOSE", h);
  s.emit("end");
  assert.equal(s.ended, false);
  assertStatus(await write, SFTP_STATUS.OK);
  assertStatus(await close, SFTP_STATUS.OK);
  await s.closed;
  assert.deepEqual(view.stored, [["ok"]]);
});

Deno.test("sftp (fake): files and folders are dated by the clock given", async () => {
  const clock = new FakeClock({ start: 1_700_000_000_000 });
  const s = fake(new MemoryView(enc("ok 1\n")), clock);
  const stat = await s.req("STAT", "/chats/a.log");
  assert.deepEqual(stat.type === "attrs" && [stat.attrs.size, stat.attrs.mtime], [
    5,
    1_700_000_000,
  ]);
  const h = await s.open("/chats/a.log", SFTP_OPEN.READ);
  await clock.advance(5_000);
  const fstat = await s.req("FSTAT", h);
  assert.deepEqual(fstat.type === "attrs" && fstat.attrs.mtime, 1_700_000_005);
  const dir = await s.req("OPENDIR", "/chats");
  assert.equal(dir.type, "handle");
  const names = await s.req("READDIR", (dir as { handle: Uint8Array }).handle);
  assert.ok(names.type === "name");
  assert.deepEqual(
    names.names.map((n) => n.filename),
    [".", "..", "a.log"],
  );
  assert.match(JSON.stringify(names.names), /Nov 14 22:13/, "long names show the clock's time");
});
