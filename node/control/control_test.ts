import assert from "node:assert/strict";
import { isRojError, RojError } from "../errors.ts";
import type { NodeEvent } from "../api/mod.ts";
import { tempDir } from "../../testing/temp.ts";
import { FakeNode } from "../../testing/fake_node.ts";
import { connectControl, MAX_REQUEST_LINE, serveControl } from "./mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A raw client that writes bytes and reads whole lines, for protocol-level checks. */
async function rawClient(path: string) {
  const conn = await Deno.connect({ transport: "unix", path });
  let buffered = "";
  const buf = new Uint8Array(65536);
  return {
    async send(text: string) {
      const bytes = enc.encode(text);
      let at = 0;
      while (at < bytes.length) at += await conn.write(bytes.subarray(at));
    },
    /** The next line as JSON, or null at the end of the stream. */
    async line(): Promise<Record<string, unknown> | null> {
      for (;;) {
        const nl = buffered.indexOf("\n");
        if (nl >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          return JSON.parse(line);
        }
        const n = await conn.read(buf).catch(() => null);
        if (n === null) return null;
        buffered += dec.decode(buf.subarray(0, n), { stream: true });
      }
    },
    close() {
      try {
        conn.close();
      } catch { /* closed by the server */ }
    },
  };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), `timed out waiting for ${what}`);
}

async function serveFake(dir: string, node = new FakeNode()) {
  const logs: string[] = [];
  const server = await serveControl(`${dir}/roj.sock`, node, { log: (l) => logs.push(l) });
  return { node, server, logs };
}

/** A socket file nobody listens on, as a killed node leaves behind. */
async function staleSocket(path: string): Promise<void> {
  const l = Deno.listen({ transport: "unix", path: `${path}.tmp` });
  await Deno.rename(`${path}.tmp`, path);
  l.close();
  assert.ok((await Deno.lstat(path)).isSocket);
}

Deno.test("control: calls round-trip, several clients and overlapping calls", async () => {
  await using d = await tempDir();
  const { server } = await serveFake(d.path);
  try {
    assert.equal(server.path, `${d.path}/roj.sock`);
    assert.equal((await Deno.stat(server.path)).mode! & 0o777, 0o600, "socket mode 0600");

    await using a = await connectControl(d.path);
    await using b = await connectControl(d.path);
    const status = await a.call("status", {});
    assert.equal(status.name, "alice");

    const [m1, m2, m3] = await Promise.all([
      a.call("send", { chat: "bob", text: "one" }),
      a.call("send", { chat: "bob", text: "two" }),
      b.call("note", { text: "a note" }),
    ]);
    assert.deepEqual([m1.body, m2.body, m3.body], ["one", "two", "a note"]);
    assert.equal(m1.state, "stored");
    const read = await b.call("read", { chat: "bob", last: 1 });
    assert.deepEqual(read.map((m) => m.body), ["two"]);
    const chats = await a.call("chats", {});
    assert.deepEqual(chats.map((c) => c.name).sort(), ["bob", "notes"]);
    const contact = await b.call("add", { invite: "roj1xyz", name: "carol" });
    assert.equal(contact.name, "carol");
    assert.equal((await a.call("contacts", {})).length, 2);
    const invite = await a.call("invite", { expiresIn: 3600, uses: 2 });
    assert.equal(invite.text, "roj1-invite-2-3600");
  } finally {
    await server.close();
  }
  await assert.rejects(Deno.lstat(`${d.path}/roj.sock`), Deno.errors.NotFound, "socket removed");
});

Deno.test("control: bad method and params are bad_input; node errors keep their code", async () => {
  await using d = await tempDir();
  const { node, server, logs } = await serveFake(d.path);
  try {
    await using c = await connectControl(d.path);
    const call = c.call.bind(c) as (m: string, p: unknown) => Promise<unknown>;
    await assert.rejects(call("frobnicate", {}), (err) => {
      assert.ok(isRojError(err, "bad_input"));
      assert.match(err.message, /unknown method "frobnicate"/);
      return true;
    });
    await assert.rejects(call("send", { chat: "bob" }), (err) => {
      assert.ok(isRojError(err, "bad_input"));
      assert.match(err.message, /send: text/);
      return true;
    });
    await assert.rejects(call("status", { extra: 1 }), (err) => isRojError(err, "bad_input"));
    await assert.rejects(
      call("read", { chat: "x".repeat(65) }),
      (err) => isRojError(err, "bad_input"),
    );
    assert.equal(node.calls.length, 0, "nothing bad reached the node");

    await assert.rejects(c.call("read", { chat: "nobody" }), (err) => {
      assert.ok(isRojError(err, "not_found"));
      assert.equal(err.message, 'no chat called "nobody"');
      return true;
    });
    node.failNext = new TypeError("boom");
    await assert.rejects(c.call("status", {}), (err) => {
      assert.ok(isRojError(err, "internal"));
      assert.equal(err.message, "boom", "the code says it is a bug; the message says what");
      return true;
    });
    assert.ok(
      logs.some((l) => /internal error in status: TypeError: boom/.test(l)),
      logs.join("\n"),
    );
    // The connection is still good after errors.
    assert.equal((await c.call("status", {})).name, "alice");
  } finally {
    await server.close();
  }
});

Deno.test("control: malformed lines get id null errors and the connection stays usable", async () => {
  await using d = await tempDir();
  const { server } = await serveFake(d.path);
  const raw = await rawClient(server.path);
  try {
    await raw.send("this is not json\n");
    assert.deepEqual(await raw.line(), {
      id: null,
      ok: false,
      error: { code: "bad_input", message: "request is not JSON" },
    });
    await raw.send('{"id": 7, "method": "status", "params": {}, "extra": true}\n');
    const bad = await raw.line();
    assert.equal(bad?.id, 7);
    assert.equal((bad?.error as { code: string }).code, "bad_input");
    await raw.send('[1,2]\n{"id": "s1", "method": "status"}\r\n\n');
    assert.equal((await raw.line())?.id, null);
    const ok = await raw.line();
    assert.equal(ok?.id, "s1");
    assert.equal(ok?.ok, true);
  } finally {
    raw.close();
    await server.close();
  }
});

Deno.test("control: a line of exactly 1 MiB is read, a longer one is refused and closed", async () => {
  await using d = await tempDir();
  const { server, node, logs } = await serveFake(d.path);
  const raw = await rawClient(server.path);
  try {
    const head = '{"id":1,"method":"status","params":{},"pad":"';
    const tail = '"}';
    const exact = head + "x".repeat(MAX_REQUEST_LINE - head.length - tail.length) + tail;
    assert.equal(exact.length, MAX_REQUEST_LINE);
    await raw.send(exact + "\n");
    const first = await raw.line();
    assert.equal(first?.id, 1);
    assert.match((first?.error as { message: string }).message, /pad/);

    await raw.send(exact + "x");
    const refused = await raw.line();
    assert.deepEqual(refused, {
      id: null,
      ok: false,
      error: {
        code: "bad_input",
        message: `request line longer than ${MAX_REQUEST_LINE} bytes; closing`,
      },
    });
    assert.equal(await raw.line(), null, "the node closed the connection");
    assert.equal(node.calls.length, 0);
    assert.ok(logs.some((l) => /overlong/.test(l)));
  } finally {
    raw.close();
    await server.close();
  }
});

Deno.test("control: follow streams events, filtered by chat, until the client goes", async () => {
  await using d = await tempDir();
  const { node, server } = await serveFake(d.path);
  try {
    const bobOnly: NodeEvent[] = [];
    const all: NodeEvent[] = [];
    const a = await connectControl(d.path);
    const b = await connectControl(d.path);
    const followA = a.follow({ chat: "bob" }, (e) => bobOnly.push(e));
    const followB = b.follow({}, (e) => all.push(e));
    await until(() => node.listeners === 2, "two followers");

    await using sender = await connectControl(d.path);
    await sender.call("send", { chat: "bob", text: "hi bob" });
    await sender.call("note", { text: "to self" });
    node.receive("bob", "bob", "hi alice");
    node.emit({ type: "delivered", chat: "bob", seq: 1 });
    node.emit({ type: "log", line: "a log line" });

    await until(() => all.length === 5 && bobOnly.length === 3, "events");
    assert.deepEqual(
      all.map((e) => e.type),
      ["message", "message", "message", "delivered", "log"],
    );
    assert.deepEqual(
      bobOnly.map((e) => e.type === "message" ? e.message.body : e.type),
      ["hi bob", "hi alice", "delivered"],
    );

    await a.close();
    await followA; // resolves when the connection closes
    assert.equal(a.closedByNode, false);
    await until(() => node.listeners === 1, "the server to unsubscribe the closed follower");

    // Closing the server ends the other follow and removes the socket.
    await server.close();
    await followB;
    assert.equal(b.closedByNode, true);
    await assert.rejects(b.call("status", {}), (err) => isRojError(err, "unreachable"));
    await b.close();
    assert.equal(node.listeners, 0);
  } finally {
    await server.close();
  }
});

Deno.test("control: follow is refused with bad params; onEvent throwing ends the follow", async () => {
  await using d = await tempDir();
  const { node, server } = await serveFake(d.path);
  try {
    await using c = await connectControl(d.path);
    await assert.rejects(
      c.follow({ chat: "" }, () => {}),
      (err) => isRojError(err, "bad_input"),
    );
    const f = c.follow({}, () => {
      throw new Error("listener failed");
    });
    await until(() => node.listeners === 1, "a follower");
    node.emit({ type: "log", line: "x" });
    await assert.rejects(f, /listener failed/);
    await until(() => node.listeners === 0, "unsubscribe");
  } finally {
    await server.close();
  }
});

Deno.test("control: requests in flight finish before close() resolves", async () => {
  await using d = await tempDir();
  const { node, server } = await serveFake(d.path);
  let open!: () => void;
  node.gate = new Promise((r) => (open = r));
  const c = await connectControl(d.path);
  // The connection is cut before the answer can be written.
  const pending = assert.rejects(c.call("status", {}), (err) => isRojError(err, "unreachable"));
  await until(() => node.calls.length === 1, "the call to reach the node");
  let closed = false;
  const closing = server.close().then(() => (closed = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(closed, false, "close() waits for the call in progress");
  open();
  await closing;
  await pending;
  await c.close();
});

Deno.test("control: a stale socket is replaced; a live node is not", async () => {
  await using d = await tempDir();
  const path = `${d.path}/roj.sock`;
  await staleSocket(path);
  await assert.rejects(connectControl(d.path), (err) => isRojError(err, "no_node"));

  const { server } = await serveFake(d.path);
  try {
    await using c = await connectControl(d.path);
    assert.equal((await c.call("status", {})).name, "alice");
    await assert.rejects(serveControl(path, new FakeNode()), (err) => {
      assert.ok(isRojError(err, "exists"));
      assert.equal(err.message, `a node is already running in ${d.path}`);
      return true;
    });
    // The first server is unharmed.
    assert.equal((await c.call("status", {})).name, "alice");
    assert.ok((await Deno.lstat(path)).isSocket);
  } finally {
    await server.close();
  }
});

Deno.test("control: something that is not a socket at the path is left alone", async () => {
  await using d = await tempDir();
  const path = `${d.path}/roj.sock`;
  await Deno.writeTextFile(path, "keep me");
  await assert.rejects(serveControl(path, new FakeNode()), (err) => isRojError(err, "exists"));
  assert.equal(await Deno.readTextFile(path), "keep me");
});

Deno.test("control: no node running gives no_node naming the folder and roj run", async () => {
  await using d = await tempDir();
  await Deno.mkdir(`${d.path}/alice`);
  await Deno.writeTextFile(`${d.path}/alice/id_ed25519.pub`, "ssh-ed25519 AAAA alice\n");
  const withIdentity = `${d.path}/alice`;
  await assert.rejects(connectControl(withIdentity), (err) => {
    assert.ok(err instanceof RojError);
    assert.equal(err.code, "no_node");
    assert.equal(
      err.message,
      `no node is running in ${withIdentity}; start it with \`roj run --data ${withIdentity}\``,
    );
    return true;
  });
  // A folder with no identity: `roj run` would make a new person there, and the error says so.
  for (const dir of [d.path, `${d.path}/missing`]) {
    await assert.rejects(connectControl(dir), (err) => {
      assert.ok(err instanceof RojError);
      assert.equal(err.code, "no_node");
      assert.ok(err.message.startsWith(`no node is running in ${dir}, and it holds no identity`));
      assert.ok(err.message.includes(`\`roj run --data ${dir}\` would create a new one`));
      assert.ok(err.message.includes(`\`roj init --data ${dir}\``));
      return true;
    });
  }
  await assert.rejects(
    connectControl(`${d.path}/${"x".repeat(120)}`),
    (err) => isRojError(err, "bad_input") && /too long|longer/.test(err.message),
  );
});

Deno.test("control: a follower that stops reading is dropped, not buffered without end", async () => {
  await using d = await tempDir();
  const { node, server, logs } = await serveFake(d.path);
  const raw = await rawClient(server.path);
  try {
    await raw.send('{"id":1,"method":"follow","params":{}}\n');
    await until(() => node.listeners === 1, "a follower");
    const line = "y".repeat(64 * 1024);
    for (let i = 0; i < 400 && node.listeners > 0; i++) node.emit({ type: "log", line });
    assert.equal(node.listeners, 0, "dropped once too far behind");
    assert.ok(logs.some((l) => /fell too far behind/.test(l)));
  } finally {
    raw.close();
    await server.close();
  }
});

/** A stand-in node that answers every request line with `answer(id)`, raw. */
function fakeServer(path: string, answer: (id: unknown) => string) {
  const listener = Deno.listen({ transport: "unix", path });
  const served = (async () => {
    const conn = await listener.accept();
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    const request = JSON.parse(dec.decode(buf.subarray(0, n ?? 0)).trim());
    await conn.write(enc.encode(answer(request.id)));
    // Wait for the client to hang up, then close.
    await conn.read(buf).catch(() => null);
    conn.close();
  })();
  return {
    async close() {
      await served;
      listener.close();
    },
  };
}

Deno.test("control: an error code the client does not know is a protocol error, message kept", async () => {
  await using d = await tempDir();
  const server = fakeServer(
    `${d.path}/roj.sock`,
    (id) =>
      JSON.stringify({ id, ok: false, error: { code: "frobnicated", message: "new" } }) + "\n",
  );
  const c = await connectControl(d.path);
  await assert.rejects(c.call("status", {}), (err) => {
    assert.ok(isRojError(err, "protocol"), String(err));
    assert.equal(err.message, "new");
    return true;
  });
  await c.close();
  await server.close();
});

Deno.test("control: a line that is not JSON fails the call as protocol, keeping the cause", async () => {
  await using d = await tempDir();
  const server = fakeServer(`${d.path}/roj.sock`, () => "{not json\n");
  const c = await connectControl(d.path);
  await assert.rejects(c.call("status", {}), (err) => {
    assert.ok(isRojError(err, "protocol"), String(err));
    assert.equal(err.message, "the node sent a bad control line: not JSON");
    assert.ok(err.cause instanceof SyntaxError, "the parser's own error is the cause");
    return true;
  });
  await c.close();
  await server.close();
});
