/**
 * The SFTP view against the real OpenSSH `sftp` client, served by a real
 * ssh2 server over loopback TCP, backed by a real ChatLog.
 */
import assert from "node:assert/strict";
import net from "node:net";
import ssh2 from "ssh2";
import { systemClock } from "../clock/mod.ts";
import { RojError } from "../errors.ts";
import {
  createSigner,
  encodePrivateKey,
  fingerprint,
  generateKeyPair,
  type KeyPair,
  parsePublicKeyBlob,
  type Signer,
  verifyEd25519,
} from "../identity/mod.ts";
import { ChatLog, createEntry, entryFromLine, entryToJson, toHex } from "../log/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { tempDir, tempStore } from "../../testing/temp.ts";
import {
  serveSftp,
  SFTP_OPEN,
  type SftpChat,
  type SftpStream,
  type SftpView,
} from "./sftp_server.ts";

const GENERAL = "chat-general";
const NOTES = "chat-notes";
const HIDDEN = "chat-hidden";

/** A view over a ChatLog for one peer, as the node would build it. */
class LogView implements SftpView {
  constructor(
    readonly log: ChatLog,
    readonly peer: Uint8Array,
    readonly chats: SftpChat[],
  ) {}

  list(): Promise<SftpChat[]> {
    return Promise.resolve(this.chats.slice());
  }

  async read(chat: string): Promise<Uint8Array> {
    const lines = (await this.log.read(chat)).map((e) => JSON.stringify(entryToJson(e)) + "\n");
    return new TextEncoder().encode(lines.join(""));
  }

  async check(chat: string, line: string): Promise<void> {
    const e = await entryFromLine(line);
    if (!bytesEqual(e.author, this.peer)) {
      throw new RojError("refused", `entry is signed by ${fingerprint(e.author)}, not by you`);
    }
    if (e.chat !== chat) {
      throw new RojError("wrong_chat", `entry belongs to chat ${e.chat}, not ${chat}`);
    }
  }

  async append(chat: string, lines: string[]): Promise<number> {
    const entries = await Promise.all(lines.map((l) => entryFromLine(l)));
    const r = await this.log.merge(chat, entries.map((e) => ({ signed: e.signed, sig: e.sig })));
    const first = r.rejected[0];
    if (first) throw new RojError(first.code, first.reason);
    return r.stored.length;
  }
}

interface Fixture extends AsyncDisposable {
  readonly port: number;
  readonly dir: string;
  readonly keyFile: string;
  readonly log: ChatLog;
  readonly me: Signer;
  readonly other: Signer;
  readonly view: LogView;
  /** OPEN pflags the server saw, in order. */
  readonly opens: number[];
  /** Lines from serveSftp's log. */
  readonly logged: string[];
}

async function fixture(): Promise<Fixture> {
  const store = await tempStore();
  const dir = await tempDir("roj-sftp-");
  const hostKey = await generateKeyPair("host");
  const myKey: KeyPair = await generateKeyPair("me");
  const me = await createSigner(myKey);
  const other = await createSigner(await generateKeyPair("other"));
  const keyFile = `${dir.path}/id_ed25519`;
  await Deno.writeTextFile(keyFile, await encodePrivateKey(myKey), { mode: 0o600 });
  await Deno.chmod(keyFile, 0o600);

  const log = new ChatLog(store.store);
  await log.append(GENERAL, other, "msg", "hello from other");
  await log.append(GENERAL, me, "msg", "hello from me");
  await log.append(NOTES, me, "msg", "a note");
  await log.append(HIDDEN, other, "msg", "secret");
  const view = new LogView(log, me.publicKey, [
    { name: "general", chat: GENERAL },
    { name: "notes", chat: NOTES },
  ]);
  const opens: number[] = [];
  const logged: string[] = [];

  const server = new ssh2.Server(
    { hostKeys: [await encodePrivateKey(hostKey)] },
    // deno-lint-ignore no-explicit-any
    (client: any) => {
      client.on("error", () => {});
      // deno-lint-ignore no-explicit-any
      client.on("authentication", async (ctx: any) => {
        if (ctx.method !== "publickey" || ctx.key?.algo !== "ssh-ed25519") {
          return ctx.reject(["publickey"]);
        }
        let pub: Uint8Array;
        try {
          pub = parsePublicKeyBlob(ctx.key.data);
        } catch {
          return ctx.reject(["publickey"]);
        }
        if (!bytesEqual(pub, me.publicKey)) return ctx.reject(["publickey"]);
        // ssh2 does not check the signature itself.
        if (ctx.signature && !await verifyEd25519(pub, ctx.signature, ctx.blob)) {
          return ctx.reject(["publickey"]);
        }
        ctx.accept();
      });
      client.on("ready", () => {
        // deno-lint-ignore no-explicit-any
        client.on("session", (accept: () => any) => {
          const session = accept();
          session.on("sftp", (acceptSftp: () => SftpStream) => {
            const sftp = acceptSftp();
            sftp.on("OPEN", (_id, _path, pflags) => opens.push(pflags));
            serveSftp(sftp, view, (line) => logged.push(line));
          });
        });
      });
    },
  );

  const sockets = new Set<net.Socket>();
  const closed: Promise<void>[] = [];
  const tcp = net.createServer((sock: net.Socket) => {
    sock.setNoDelay(true);
    sockets.add(sock);
    closed.push(new Promise((resolve) => sock.once("close", () => resolve())));
    sock.once("close", () => sockets.delete(sock));
    server.injectSocket(sock);
  });
  await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", () => resolve()));
  const port = (tcp.address() as net.AddressInfo).port;

  return {
    port,
    dir: dir.path,
    keyFile,
    log,
    me,
    other,
    view,
    opens,
    logged,
    async [Symbol.asyncDispose]() {
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await Promise.all(closed);
      await dir[Symbol.asyncDispose]();
      await store[Symbol.asyncDispose]();
    },
  };
}

interface SftpRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs OpenSSH `sftp -b -` with `batch` on stdin. */
async function sftp(f: Fixture, batch: string): Promise<SftpRun> {
  const child = new Deno.Command("sftp", {
    args: [
      "-b",
      "-",
      "-P",
      String(f.port),
      "-i",
      f.keyFile,
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "BatchMode=yes",
      "-o",
      "LogLevel=ERROR",
      "-o",
      "IdentitiesOnly=yes",
      "roj@127.0.0.1",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(batch));
  await w.close();
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** New entries by `signer` extending its chain in `chat`, as export lines (nothing is stored). */
async function newLines(
  log: ChatLog,
  chat: string,
  signer: Signer,
  texts: string[],
  options: { entryChat?: string } = {},
): Promise<string[]> {
  const entryChat = options.entryChat ?? chat;
  let head = (await log.heads(entryChat)).get(toHex(signer.publicKey)) ?? null;
  let lamport = Math.max(0, ...(await log.read(chat)).map((e) => e.lamport));
  const out: string[] = [];
  for (const body of texts) {
    const e = await createEntry(signer, {
      chat: entryChat,
      author: signer.publicKey,
      seq: (head?.seq ?? 0) + 1,
      prev: head?.hash ?? null,
      lamport: ++lamport,
      ts: systemClock.now(),
      type: "msg",
      body,
    });
    head = { seq: e.seq, hash: e.hash, lamport: e.lamport, author: e.author };
    out.push(JSON.stringify(entryToJson(e)));
  }
  return out;
}

async function bodies(log: ChatLog, chat: string): Promise<string[]> {
  return (await log.read(chat)).map((e) => e.body);
}

/** `get`s the remote file, then uploads it with `extra` added at its end via `put -a`. */
async function appendVia(f: Fixture, remote: string, extra: string): Promise<SftpRun> {
  const local = `${f.dir}/upload-${crypto.randomUUID()}.log`;
  const got = await sftp(f, `get ${remote} ${local}\n`);
  assert.equal(got.code, 0, got.stderr);
  await Deno.writeTextFile(local, extra, { append: true });
  return await sftp(f, `put -a ${local} ${remote}\n`);
}

Deno.test("sftp: ls shows only the chats of the view", async () => {
  await using f = await fixture();
  const r = await sftp(f, "ls /\nls /chats\nls -l /chats\ncd /chats\npwd\nls\n");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\/chats\s*$/m);
  assert.match(r.stdout, /general\.log/);
  assert.match(r.stdout, /notes\.log/);
  assert.doesNotMatch(r.stdout, /hidden/);
  const size = (await f.view.read(GENERAL)).length;
  assert.match(r.stdout, new RegExp(`^-rw-r--r-- .* 0 +0 +${size} .* general\\.log$`, "m"));
  assert.match(r.stdout, /Remote working directory: \/chats/);
});

Deno.test("sftp: get returns the export lines", async () => {
  await using f = await fixture();
  const local = `${f.dir}/general.log`;
  const r = await sftp(f, `get /chats/general.log ${local}\nget /chats/notes.log ${f.dir}/\n`);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await Deno.readFile(local), await f.view.read(GENERAL));
  assert.deepEqual(await Deno.readFile(`${f.dir}/notes.log`), await f.view.read(NOTES));
  const lines = (await Deno.readTextFile(local)).trimEnd().split("\n");
  assert.deepEqual(
    (await Promise.all(lines.map((l) => entryFromLine(l)))).map((e) => e.body),
    ["hello from other", "hello from me"],
  );
});

Deno.test("sftp: get + append + put -a stores a line signed by the session's key", async () => {
  await using f = await fixture();
  const [line] = await newLines(f.log, GENERAL, f.me, ["appended over sftp"]);
  const r = await appendVia(f, "/chats/general.log", line + "\n");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await bodies(f.log, GENERAL), [
    "hello from other",
    "hello from me",
    "appended over sftp",
  ]);
  // put -a: WRITE|CREAT|APPEND, never TRUNC.
  assert.equal(f.opens.at(-1), SFTP_OPEN.WRITE | SFTP_OPEN.CREAT | SFTP_OPEN.APPEND);
  assert.ok(f.logged.some((l) => l.includes("general.log: appended 1 entries")), f.logged.join());
});

Deno.test("sftp: put -a of many lines spanning several writes stores them all", async () => {
  await using f = await fixture();
  const texts = Array.from({ length: 150 }, (_, i) => `bulk ${i} ${"x".repeat(i * 7)}`);
  const lines = await newLines(f.log, NOTES, f.me, texts);
  const extra = lines.join("\n") + "\n";
  assert.ok(extra.length > 3 * 32 * 1024, "spans several 32 KiB writes");
  const r = await appendVia(f, "/chats/notes.log", extra);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await bodies(f.log, NOTES), ["a note", ...texts]);
});

/** Asserts that an upload was refused with `reason` on sftp's stderr, and that nothing was stored. */
async function assertRefused(
  f: Fixture,
  r: SftpRun,
  reason: RegExp,
  before: string[],
  chat: string,
) {
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(r.stderr, reason);
  assert.match(r.stderr, /nothing was stored/);
  assert.deepEqual(await bodies(f.log, chat), before);
}

Deno.test("sftp: put -a refuses lines signed by another key, malformed or for another chat", async () => {
  await using f = await fixture();
  const before = await bodies(f.log, GENERAL);
  const [byOther] = await newLines(f.log, GENERAL, f.other, ["not mine"]);
  let r = await appendVia(f, "/chats/general.log", byOther + "\n");
  await assertRefused(f, r, /line 3: entry is signed by SHA256:\S+, not by you/, before, GENERAL);

  r = await appendVia(f, "/chats/general.log", '{"chat": "oops"}\n');
  await assertRefused(f, r, /line 3: entry line is invalid/, before, GENERAL);

  r = await appendVia(f, "/chats/general.log", "not json at all\n");
  await assertRefused(f, r, /line 3: entry line is not JSON/, before, GENERAL);

  const [forNotes] = await newLines(f.log, GENERAL, f.me, ["wrong chat"], { entryChat: NOTES });
  r = await appendVia(f, "/chats/general.log", forNotes + "\n");
  await assertRefused(f, r, /line 3: entry belongs to chat chat-notes/, before, GENERAL);

  // A valid line followed by an invalid one: neither is stored.
  const [good] = await newLines(f.log, GENERAL, f.me, ["good"]);
  r = await appendVia(f, "/chats/general.log", `${good}\n${byOther}\n`);
  await assertRefused(f, r, /line 4: entry is signed by/, before, GENERAL);

  // A last line without its newline.
  r = await appendVia(f, "/chats/general.log", good!);
  await assertRefused(f, r, /line 3 does not end with a newline/, before, GENERAL);

  // Valid lines that do not chain (seq gap) pass check() but fail append().
  const [, second] = await newLines(f.log, GENERAL, f.me, ["one", "two"]);
  r = await appendVia(f, "/chats/general.log", second + "\n");
  await assertRefused(f, r, /arrived but the author's next is/, before, GENERAL);
  assert.deepEqual(await bodies(f.log, NOTES), ["a note"]);
});

Deno.test("sftp: plain put (truncate) and creating files are refused", async () => {
  await using f = await fixture();
  const before = await bodies(f.log, GENERAL);
  const local = `${f.dir}/mine.log`;
  const [line] = await newLines(f.log, GENERAL, f.me, ["would overwrite"]);
  await Deno.writeTextFile(local, line + "\n");

  let r = await sftp(f, `put ${local} /chats/general.log\n`);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Permission denied/);
  assert.match(r.stderr, /roj: cannot overwrite \/chats\/general\.log: chats are append-only/);
  // plain put: WRITE|CREAT|TRUNC.
  assert.equal(f.opens.at(-1), SFTP_OPEN.WRITE | SFTP_OPEN.CREAT | SFTP_OPEN.TRUNC);

  r = await sftp(f, `put ${local} /chats/new.log\n`);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /cannot create \/chats\/new\.log/);

  r = await sftp(f, `put ${local} /elsewhere.txt\n`);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /cannot create/);

  r = await sftp(f, `put ${local} /chats\n`);
  assert.notEqual(r.code, 0);

  r = await sftp(f, `put -a ${local} /chats/hidden.log\n`);
  assert.notEqual(r.code, 0);
  assert.deepEqual(await bodies(f.log, GENERAL), before);
  assert.deepEqual(await bodies(f.log, HIDDEN), ["secret"]);
});

Deno.test("sftp: mkdir, rm, rename and paths outside /chats are refused", async () => {
  await using f = await fixture();
  const cases: Array<[string, RegExp]> = [
    ["mkdir /chats/sub", /Permission denied/],
    ["mkdir /x", /Permission denied/],
    ["rm /chats/general.log", /Permission denied/],
    ["rmdir /chats", /Permission denied/],
    ["rename /chats/general.log /chats/other.log", /Permission denied/],
    ["chmod 600 /chats/general.log", /Permission denied/],
    ["ln -s /chats/general.log /chats/l.log", /Permission denied/],
    [`get /etc/passwd ${f.dir}/passwd`, /not found|no such file/i],
    [`get /chats/../../etc/passwd ${f.dir}/passwd`, /not found|no such file/i],
    [`get /chats/hidden.log ${f.dir}/hidden`, /not found|no such file/i],
    [`get ../../../etc/hostname ${f.dir}/hostname`, /not found|no such file/i],
    ["ls /etc", /not found|no such file/i],
    ["cd /tmp", /not found|no such file/i],
  ];
  const runs = await Promise.all(cases.map(([cmd]) => sftp(f, cmd + "\n")));
  runs.forEach((r, i) => {
    const [cmd, reason] = cases[i]!;
    assert.notEqual(r.code, 0, `${cmd} was refused`);
    assert.match(r.stderr, reason, `${cmd}: ${r.stderr}`);
  });
  await assert.rejects(Deno.stat(`${f.dir}/passwd`));
  await assert.rejects(Deno.stat(`${f.dir}/hidden`));
  assert.deepEqual(await bodies(f.log, GENERAL), ["hello from other", "hello from me"]);
});

Deno.test("sftp: a 2,000-line file downloads intact", async () => {
  await using f = await fixture();
  const items = Array.from(
    { length: 1997 },
    (_, i) => ({ type: "msg", body: `line ${i} ü ${"y".repeat(i % 300)}` }),
  );
  for (let i = 0; i < items.length; i += 500) {
    await f.log.appendMany(GENERAL, f.me, items.slice(i, i + 500));
  }
  await f.log.append(GENERAL, f.other, "msg", "last");
  const expected = await f.view.read(GENERAL);
  const local = `${f.dir}/big.log`;
  const r = await sftp(f, `get /chats/general.log ${local}\n`);
  assert.equal(r.code, 0, r.stderr);
  const got = await Deno.readFile(local);
  assert.ok(expected.length > 1_000_000, `${expected.length} bytes`);
  assert.equal(got.length, expected.length);
  assert.deepEqual(got, expected);
  const text = new TextDecoder().decode(got);
  assert.equal(text.split("\n").length - 1, 2000);
});
