/**
 * A hostile contact, fuzzed (issue 17, "Also"). The victim is a real node (a
 * spawned `roj run`, its Deno KV store on disk); mallory is one of its
 * contacts and a member of a group it founded, and speaks raw SSH and raw roj
 * frames at it, every choice drawn from a seed printed first (replay with
 * ROJ_FUZZ_SEED=…). Batches run until
 * the time budget (ROJ_FUZZ_BUDGET_MS, default 40 s: with the start and the
 * stop the test stays under 60 s on a loaded 2-core machine). Each batch is a
 * random mix of:
 *
 * - random bytes, on the roj channel (before and after the hello), on the SSH
 *   port before and after an SSH banner, and at the QUIC port (UDP);
 * - length prefixes of 0, past MAX_FRAME, shorter than the payload, and longer
 *   (completed by whitespace: served);
 * - payloads that are not UTF-8, not JSON, not a frame, a second hello, bad
 *   hellos, ill-shaped requests;
 * - every method of node/protocol/methods.ts (taken from its table, so a new
 *   method is covered at once) with params from its own schema, valid or
 *   mutated at and past its bounds: huge arrays, deep nesting, 1e309, negatives,
 *   2^53, long strings, bad base64, `__proto__` keys, duplicate request ids,
 *   and unknown method names;
 * - entries signed by mallory with one field or the signature broken, in the
 *   direct chat and in the group (testing/fuzz_entries.ts);
 * - answers to the victim's own requests made of the same stuff;
 * - floods: thousands of requests in one write, of ignored frames, of
 *   near-1 MiB frames, of sessions and of connections.
 *
 * Every request is checked against the method's schema here too: params the
 * schema refuses must be answered bad_input (or busy), never served, an
 * unknown method unknown_method, and nothing is answered `internal` (a
 * handler that threw something other than a RojError). A frame the codec must
 * refuse closes the session. After each batch the victim answers `roj status`,
 * every earlier message in both chats (alice's, and mallory's pushed honestly)
 * reads back exactly, nothing else was stored, and its RSS and store stay under
 * bounds (each explained where it is asserted, from the README's Limits).
 */
import assert from "node:assert/strict";
import net from "node:net";
import { z } from "zod";
import { createEntry, directChatId, MAX_BODY_BYTES, toHex } from "../node/log/mod.ts";
import { createSigner, generateKeyPair, type Signer } from "../node/identity/mod.ts";
import { RojError } from "../node/errors.ts";
import type { ControlClient } from "../node/control/mod.ts";
import {
  decodePushPage,
  encodeB64,
  encodeFrame,
  encodePushPage,
  type Frame,
  FrameDecoder,
  HARD_BUFFER_BYTES,
  MAX_FRAME,
  type ResultOf,
  RpcSession,
} from "../node/protocol/mod.ts";
import { schemas } from "../node/protocol/methods.ts";
import { dialSsh, type Pipe, type SshClient } from "../node/transport/mod.ts";
import { SEALED_QUOTA } from "../node/discovery/mod.ts";
import { makeDataDir, seedContacts } from "../testing/netlab.ts";
import { spawnNode } from "../testing/processes.ts";
import { cliRun, freePort } from "../testing/cli_run.ts";
import { brokenEntry, type ChainHead } from "../testing/fuzz_entries.ts";
import {
  badUtf8,
  deepNesting,
  frameBytes,
  Fuzz,
  fuzzSeed,
  type Json,
  jsonText,
  mutate,
  mutateBulk,
  RawJson,
  type Schema,
  validValue,
} from "../testing/fuzz.ts";

const MiB = 2 ** 20;
const BUDGET_MS = Number(Deno.env.get("ROJ_FUZZ_BUDGET_MS") ?? 40_000);
/**
 * The victim's V8 old space, in MiB. Left to itself on a machine with plenty of
 * memory V8 lets garbage pile up (+220 MiB in 40 s of this fuzz with no leak),
 * which would hide a leak; capped, garbage is collected, a leak in the JS heap
 * kills the victim, and one outside it (as ssh2's chacha20 under Deno was)
 * shows in its RSS. What a contact may make the victim hold in its heap is well
 * under it: its answers wait in buffers outside the heap (HARD_BUFFER_BYTES),
 * it offers no group the victim could keep, and frames are ≤ 1 MiB.
 */
const OLD_SPACE_MIB = 64;
const HOST = "127.0.23.1";
const MALLORY_AT = "127.0.23.2";
const STRANGER_AT = "127.0.23.3";

const METHODS = Object.keys(schemas) as (keyof typeof schemas)[];
const paramSchemas = new Map(
  METHODS.map((m) => [m, z.toJSONSchema(schemas[m].params, { unrepresentable: "any" }) as Schema]),
);
const resultSchemas = new Map(
  METHODS.map((m) => [
    m, // A binary result (files.get: raw bytes in a binary frame) has no JSON form: any.
    z.toJSONSchema(schemas[m].result, { unrepresentable: "any" }) as Schema,
  ]),
);
/** Names no table holds, some of them every object has. */
const UNKNOWN_METHODS = ["__proto__", "constructor", "toString", "hasOwnProperty", "sync.pull"];
/** A victim may be slow to answer some valid requests (a dial-back takes up to 8 s). */
const ANSWER_WAIT_MS = 4_000;
const CLOSE_WAIT_MS = 5_000;

type Answer = Extract<Frame, { t: "res" }> & { ok: boolean; code?: string };

/** Mallory's end of one roj channel: raw bytes out, the victim's frames in. */
interface Channel {
  send(bytes: Uint8Array): void;
  /** Answers by request id, every one (a duplicate id may get two). */
  readonly answers: Map<number, Answer[]>;
  /** Resolves when the channel closes, from either side. */
  readonly closed: Promise<void>;
  isClosed(): boolean;
  /** Resolves when `test` holds (checked at every frame) or the channel closes or `ms` pass. */
  until(test: () => boolean, ms: number): Promise<boolean>;
  close(): void;
}

interface Ctx {
  readonly f: Fuzz;
  readonly port: number;
  readonly keyPair: Awaited<ReturnType<typeof generateKeyPair>>;
  readonly victimKey: Uint8Array;
  /** The direct chat, then a group alice founded with mallory in it. */
  readonly chats: ChatState[];
  readonly stats: Map<string, number>;
  /** Valid requests not answered before their session ended, by method. */
  readonly slow: Map<string, number>;
  /** What went wrong where no assertion can throw (in a socket's callback). */
  readonly problems: string[];
  readonly signer: Signer;
}

interface ChatState {
  /** Its name on the victim. */
  readonly name: string;
  readonly id: string;
  /** Mallory's last entry in it, and its clock. */
  head: ChainHead;
  /** Every message in it, by hash: what `read` must show, exactly. */
  readonly written: Map<string, { body: string; mine: boolean }>;
}

const count = (m: Map<string, number>, k: string, n = 1) => m.set(k, (m.get(k) ?? 0) + n);

async function dial(ctx: Ctx): Promise<SshClient> {
  return await dialSsh({
    keyPair: ctx.keyPair,
    to: { host: HOST, port: ctx.port },
    localAddress: MALLORY_AT,
    expectedKey: ctx.victimKey,
    expectedName: "alice",
    timeoutMs: 10_000,
  });
}

/**
 * A raw roj channel as mallory. The victim's requests get fuzzed answers:
 * results from the method's result schema, valid or mutated, refusals, or
 * nothing.
 */
async function openChannel(ctx: Ctx): Promise<Channel> {
  const client = await dial(ctx);
  let pipe: Pipe;
  try {
    pipe = await client.openRoj();
  } catch (err) {
    client.close();
    throw err;
  }
  const answers = new Map<number, Answer[]>();
  const decoder = new FrameDecoder();
  const watchers = new Set<() => void>();
  let closed = false;
  let resolveClosed!: () => void;
  const closedP = new Promise<void>((r) => (resolveClosed = r));
  pipe.onClose(() => {
    closed = true;
    client.close();
    resolveClosed();
    for (const w of watchers) w();
  });
  pipe.onData((chunk) => {
    let frames: Frame[];
    try {
      frames = decoder.push(chunk);
    } catch (err) {
      ctx.problems.push(`the victim sent a bad frame: ${(err as Error).message}`);
      return pipe.close();
    }
    for (const fr of frames) {
      if (fr.t === "res") {
        const a = fr as Answer;
        answers.set(a.id, [...(answers.get(a.id) ?? []), a]);
      } else if (fr.t === "req") {
        const req = fr as Extract<Frame, { t: "req" }>;
        count(ctx.stats, "requests from the victim");
        const reply = answerFor(ctx.f, req.id, req.m as keyof typeof schemas);
        if (reply) pipe.send(frameBytes(reply));
      }
    }
    for (const w of watchers) w();
  });
  return {
    send: (bytes) => pipe.send(bytes),
    answers,
    closed: closedP,
    isClosed: () => closed,
    until: (test, ms) =>
      new Promise<boolean>((resolve) => {
        const check = () => {
          if (test() || closed) done(test());
        };
        const timer = setTimeout(() => done(test()), ms);
        const done = (v: boolean) => {
          clearTimeout(timer);
          watchers.delete(check);
          resolve(v);
        };
        watchers.add(check);
        check();
      }),
    close: () => {
      pipe.close();
      client.close();
    },
  };
}

/** What mallory answers the victim's request `id` for `method` with (null: nothing). */
function answerFor(f: Fuzz, id: number, method: keyof typeof schemas): string | null {
  const schema = resultSchemas.get(method);
  switch (f.int(0, 4)) {
    case 0:
      return null;
    case 1:
      return jsonText({
        t: "res",
        id,
        ok: false,
        code: f.pick(["refused", "busy", "internal", "no-such-code", "x".repeat(64)]),
        msg: f.pick(["", "\u001b[2J\r\nforged log line", "m".repeat(1000)]),
      });
    default: {
      const r = schema ? validValue(schema, f) : {};
      const text = jsonText({
        t: "res",
        id,
        ok: true,
        r: f.chance(0.5) && schema ? mutate(schema, r, f) : r,
      });
      return text.length <= MAX_FRAME ? text : null;
    }
  }
}

/** A hello that passes its schema, with features and a name drawn from the seed. */
function goodHello(f: Fuzz): string {
  const features = [
    "sync1",
    ...["anchor", "mailbox", "punch", "relay"].filter(() => f.chance(0.3)),
  ];
  return jsonText({
    t: "hello",
    v: f.pick([1, 1, 2, 1000]),
    features: f.chance(0.1) ? [...features, "z".repeat(32), "é"] : features,
    name: f.pick(["mallory", "", "\u001b[31mroot\u001b[0m\n", "m".repeat(64)]),
    ...(f.chance(0.3) ? { sees: f.pick([`${HOST}:1`, "evil.example:22", "s".repeat(300)]) } : {}),
  });
}

/** A hello the codec must refuse. */
function badHello(f: Fuzz): string {
  return f.pick([
    '{"t":"hello"}',
    '{"t":"hello","v":0,"features":[],"name":"m"}',
    '{"t":"hello","v":1001,"features":[],"name":"m"}',
    '{"t":"hello","v":1.5,"features":[],"name":"m"}',
    jsonText({ t: "hello", v: 1, features: Array(65).fill("sync1"), name: "m" }),
    jsonText({ t: "hello", v: 1, features: ["f".repeat(33)], name: "m" }),
    jsonText({ t: "hello", v: 1, features: [], name: "n".repeat(65) }),
    jsonText({ t: "hello", v: 1, features: [], name: "m", sees: "s".repeat(301) }),
    jsonText({ t: "hello", v: 1, features: "sync1", name: "m" }),
    jsonText({ t: "hello", v: new RawJson("1e309"), features: [], name: "m" }),
  ]);
}

/** One request's frame text, and what the victim may answer it. */
function request(ctx: Ctx, id: Json): { text: string; method: string; expect: string } {
  const { f } = ctx;
  if (f.chance(0.06)) {
    const method = f.pick(UNKNOWN_METHODS);
    return { text: jsonText({ t: "req", id, m: method, p: {} }), method, expect: "unknown" };
  }
  const method = f.pick(METHODS);
  const schema = paramSchemas.get(method)!;
  let p = validValue(schema, f);
  // The real chat now and then, so that sync handlers go past their lookup.
  if (method.startsWith("sync.") && f.chance(0.5)) {
    p = { ...(p as object), chat: f.pick(ctx.chats).id };
  }
  if (f.chance(0.7)) p = mutate(schema, p, f);
  let text = jsonText({ t: "req", id, m: method, p });
  if (text.length > MAX_FRAME - 64) text = jsonText({ t: "req", id, m: method, p: null });
  // Checked here as the victim must: the same text, the same schema.
  const parsed = schemas[method].params.safeParse(JSON.parse(text).p);
  return { text, method, expect: parsed.success ? "valid" : "invalid" };
}

/** Asserts what the victim answered, by what the request deserved. */
function judge(ctx: Ctx, method: string, expect: string, answers: readonly Answer[]): void {
  for (const a of answers) {
    count(ctx.stats, `answers ${a.ok ? "ok" : a.code}`);
    assert.notEqual(a.code, "internal", `${method} answered internal (seed ${ctx.f.seed})`);
    if (expect === "invalid") {
      assert.ok(
        !a.ok && ["bad_input", "busy", "unknown_method"].includes(a.code!),
        `${method} with params its schema refuses was answered ${a.ok ? "ok" : a.code}`,
      );
    }
    if (expect === "unknown") assert.equal(a.code, "unknown_method", `${method}`);
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of parts) {
    all.set(b, at);
    at += b.length;
  }
  return all;
}

/** Split into chunks at random places (the victim reassembles frames from any). */
function sendSplit(ch: Channel, bytes: Uint8Array, f: Fuzz): void {
  if (f.chance(0.7)) return ch.send(bytes);
  for (let at = 0; at < bytes.length;) {
    const n = f.int(1, Math.max(1, Math.floor(bytes.length / f.int(1, 8))));
    ch.send(bytes.slice(at, at + n));
    at += n;
  }
}

/** A session of requests for methods from the table, valid or at and past their bounds. */
async function requestSession(ctx: Ctx): Promise<void> {
  const { f } = ctx;
  const ch = await openChannel(ctx);
  try {
    const sent: { id: number; method: string; expect: string; times: number }[] = [];
    const out = [frameBytes(goodHello(f))];
    for (let i = 0, n = f.int(5, 40); i < n; i++) {
      // Duplicate ids now and then, and ids at the bound.
      const dup = sent.length > 0 && f.chance(0.1) ? f.pick(sent) : undefined;
      const id = dup?.id ?? f.pick([i + 1, i + 1, 0, 2 ** 53 - 1 - i]);
      const r = request(ctx, id);
      if (dup) {
        if (dup.method !== r.method || dup.expect !== r.expect) continue;
        dup.times++;
      } else if (sent.some((s) => s.id === id)) continue;
      else sent.push({ id, method: r.method, expect: r.expect, times: 1 });
      out.push(frameBytes(r.text));
      count(ctx.stats, `requests ${r.expect}`);
      count(ctx.stats, `${r.expect} ${r.method}`);
    }
    sendSplit(ch, concat(out), f);
    const answered = (s: (typeof sent)[number]) => (ch.answers.get(s.id)?.length ?? 0) >= s.times;
    // Refusals are immediate: wait for those; the valid ones may take a while (dial-backs).
    await ch.until(() => sent.every((s) => s.expect === "valid" || answered(s)), ANSWER_WAIT_MS);
    await ch.until(() => sent.every(answered), 200);
    assert.ok(!ch.isClosed(), `the victim closed a session of well-formed requests`);
    for (const s of sent) {
      judge(ctx, s.method, s.expect, ch.answers.get(s.id) ?? []);
      if (s.expect !== "valid") {
        assert.ok(answered(s), `${s.method} (${s.expect}) was not answered in time`);
      } else if (!answered(s)) count(ctx.slow, s.method);
    }
  } finally {
    ch.close();
  }
}

/** One frame-level case: what is sent, and whether the victim must close the session. */
interface FrameCase {
  readonly label: string;
  readonly hello: boolean;
  readonly bytes: Uint8Array;
  readonly then: "closes" | "served" | "any";
}

const PROBE = '{"t":"req","id":7,"m":"sync.heads","p":{"chat":"probe"}}';

function frameCase(f: Fuzz): FrameCase {
  const c = (label: string, bytes: Uint8Array, then: FrameCase["then"], hello = true) => ({
    label,
    hello,
    bytes,
    then,
  });
  switch (f.int(0, 15)) {
    case 0:
      return c("random bytes", f.bytes(f.int(1, 8192)), "any");
    case 1:
      return c("random bytes before hello", f.bytes(f.int(1, 8192)), "any", false);
    case 2:
      return c("zero length prefix", frameBytes("", 0), "closes");
    case 3: // refused from the header, before any payload
      return c(
        "oversize length prefix",
        frameBytes("{}", f.pick([MAX_FRAME + 1, 2 ** 31, 2 ** 32 - 1])),
        "closes",
      );
    case 4: { // the rest of the payload is read as the next header
      const t = new TextEncoder().encode(PROBE);
      return c("undersize length prefix", frameBytes(t, f.int(1, t.length - 1)), "closes");
    }
    case 5: { // the missing bytes come as JSON whitespace: a good frame
      const pad = f.int(1, 5000);
      const t = new TextEncoder().encode(PROBE + " ".repeat(pad));
      return c("long prefix, padded", frameBytes(t), "served");
    }
    case 6:
      return c("bad UTF-8", frameBytes(badUtf8(f)), "closes");
    case 7:
      return c(
        "bad JSON",
        frameBytes(f.pick([
          "{",
          "NaN",
          '{"t":"req",}',
          "{'t':'req'}",
          '{"t":"req","id":1,"m":"sync.heads","p":NaN}',
          '{"t":"req","id":1,"m":"sync.heads","p":Infinity}',
          '{"t":"req","id":01,"m":"sync.heads","p":{}}',
          "\u0000",
          PROBE + "}",
        ])),
        "closes",
      );
    case 8:
      return c(
        "not a frame",
        frameBytes(f.pick(["[]", "null", "1", '"req"', '{"t":1}', '{"t":null}', "{}", "true"])),
        "closes",
      );
    case 9:
      return c(
        "ill-shaped request",
        frameBytes(f.pick([
          '{"t":"req","id":-1,"m":"sync.heads","p":{}}',
          '{"t":"req","id":1.5,"m":"sync.heads","p":{}}',
          `{"t":"req","id":${2 ** 53},"m":"sync.heads","p":{}}`,
          '{"t":"req","id":"1","m":"sync.heads","p":{}}',
          '{"t":"req","id":1e309,"m":"sync.heads","p":{}}',
          '{"t":"req","id":1,"m":"","p":{}}',
          `{"t":"req","id":1,"m":"${"m".repeat(65)}","p":{}}`,
          '{"t":"req","id":1,"p":{}}',
          '{"t":"res","id":-1,"ok":true,"r":null}',
          `{"t":"res","id":1,"ok":false,"code":"x","msg":"${"m".repeat(1001)}"}`,
          `{"t":"req","id":${jsonText(deepNesting(50_000, f))},"m":"sync.heads","p":{}}`,
        ])),
        "closes",
      );
    case 10:
      return c("second hello", frameBytes(goodHello(f)), "closes");
    case 11:
      return c("bad hello", frameBytes(badHello(f)), "closes", false);
    case 12:
      return c("request before hello", frameBytes(PROBE), "closes", false);
    case 13: { // feature bulk1: a binary request's head that is not one
      const id = new Uint8Array(8);
      id[1] = f.chance(0.5) ? 0x20 : 0xff; // past 2^53
      const head = (m: number[]) => frameBytes(new Uint8Array([0x00, 0x71, ...id, ...m, 0x61]));
      return c(
        "malformed binary request head",
        f.pick([
          frameBytes(new Uint8Array([0x00, 0x71, 0, 0, 0])),
          head([9, ...new TextEncoder().encode("sync.push")]),
          (id[1] = 0, head([0])),
          head([2, 0x53, 0x2f]),
          head([200, 0x61]),
        ]),
        "closes",
      );
    }
    case 14: { // a binary answer to no request of the victim's: ignored
      const bin = encodeFrame(
        { t: "bin", id: f.int(1, 2 ** 31), bytes: f.bytes(f.int(0, 4096)) } as Frame,
      );
      return c("binary answer nobody asked for", concat([bin, frameBytes(PROBE)]), "served");
    }
    default: { // a frame of exactly MAX_FRAME bytes: the largest allowed
      const pad = MAX_FRAME - new TextEncoder().encode(PROBE).length;
      return c("frame of MAX_FRAME bytes", frameBytes(PROBE + " ".repeat(pad)), "served");
    }
  }
}

async function frameSession(ctx: Ctx): Promise<void> {
  const { f } = ctx;
  const fc = frameCase(f);
  count(ctx.stats, `frames: ${fc.label}`);
  const ch = await openChannel(ctx);
  try {
    if (fc.hello) ch.send(frameBytes(goodHello(f)));
    sendSplit(ch, fc.bytes, f);
    if (fc.then === "closes") {
      const shut = await ch.until(() => false, CLOSE_WAIT_MS).then(() => ch.isClosed());
      assert.ok(shut, `the victim kept a session open after: ${fc.label}`);
    } else if (fc.then === "served") {
      const ok = await ch.until(() => ch.answers.has(7), CLOSE_WAIT_MS);
      assert.ok(ok, `the victim did not answer after: ${fc.label}`);
      judge(ctx, "sync.heads", "valid", ch.answers.get(7)!);
    }
  } finally {
    ch.close();
  }
}

/** Garbage at the SSH port (before or after a banner) and at the QUIC port. */
async function rawSocketCase(ctx: Ctx): Promise<void> {
  const { f } = ctx;
  if (f.chance(0.25)) {
    // A stranger (from an address of its own: its refusals count against that address):
    // whatever user name it tries, it gets no session.
    count(ctx.stats, "stranger");
    const username = f.pick(["roj", `invite-${f.text("0123456789abcdef", 32)}`, "root", "", "é"]);
    const client = await dialSsh({
      keyPair: await generateKeyPair("stranger"),
      to: { host: HOST, port: ctx.port },
      localAddress: STRANGER_AT,
      expectedKey: ctx.victimKey,
      expectedName: "alice",
      username,
    }).catch((err: RojError) => err);
    if (client instanceof RojError) {
      assert.equal(client.code, "refused", `a stranger as ${username}: ${client.message}`);
      return;
    }
    // An invite holder's user name may log in, to redeem; then a session with no contact behind it.
    const pipe = await client.openRoj().catch(() => null);
    pipe?.send(frameBytes(goodHello(f)));
    pipe?.send(frameBytes(PROBE));
    client.close();
    return;
  }
  if (f.chance(0.3)) {
    count(ctx.stats, "udp garbage");
    const udp = Deno.listenDatagram({ transport: "udp", hostname: MALLORY_AT, port: 0 });
    try {
      for (let i = f.int(1, 40); i > 0; i--) {
        await udp.send(f.bytes(f.int(1, 1500)), {
          transport: "udp",
          hostname: HOST,
          port: ctx.port,
        });
      }
    } finally {
      udp.close();
    }
    return;
  }
  count(ctx.stats, "ssh garbage");
  const banner = f.pick(["", "SSH-2.0-fuzz\r\n", "SSH-1.99-x\r\n", "x".repeat(300) + "\r\n"]);
  const sock = net.connect({ host: HOST, port: ctx.port, localAddress: MALLORY_AT });
  sock.on("error", () => {});
  const gone = new Promise<void>((r) => sock.on("close", () => r()));
  sock.write(banner);
  // An SSH packet with a random length prefix (maybe huge), then random bytes.
  sock.write(new Uint8Array([...f.bytes(4), ...f.bytes(f.int(0, 4096))]));
  await Promise.race([gone, new Promise((r) => setTimeout(r, 300))]);
  sock.destroy();
  await gone;
}

/** Many at once: requests, ignored frames, near-1 MiB frames, sessions, connections. */
async function flood(ctx: Ctx): Promise<void> {
  const { f } = ctx;
  const kind = f.int(0, 4);
  if (kind === 3) {
    count(ctx.stats, "flood: sessions");
    const chs = await Promise.all(
      Array.from({ length: f.int(4, 10) }, () => openChannel(ctx).catch(() => null)),
    );
    for (const ch of chs) ch?.send(frameBytes(goodHello(f)));
    for (const ch of chs) ch?.close();
    return;
  }
  if (kind === 4) {
    count(ctx.stats, "flood: connections");
    const socks = Array.from({ length: f.int(20, 60) }, () => {
      const s = net.connect({ host: HOST, port: ctx.port, localAddress: MALLORY_AT });
      s.on("error", () => {});
      return s;
    });
    await Promise.all(socks.map((s) => new Promise((r) => s.on("connect", r).on("close", r))));
    for (const s of socks) s.destroy();
    return;
  }
  const ch = await openChannel(ctx);
  try {
    ch.send(frameBytes(goodHello(f)));
    // Requests sent with the hello wait, a few dozen at most, until the session is
    // registered (more close it: tests/hello_flight_test.ts). A flood comes after the first
    // answer, which proves the session is.
    const ready = 999_999;
    ch.send(
      frameBytes(`{"t":"req","id":${ready},"m":"sync.heads","p":{"chat":"${ctx.chats[0]!.id}"}}`),
    );
    assert.ok(await ch.until(() => ch.answers.has(ready), 10_000), "the session came up");
    const parts: Uint8Array[] = [];
    let expect: number[] = [];
    if (kind === 0) {
      count(ctx.stats, "flood: requests");
      const n = f.int(1000, 4000);
      for (let id = 1; id <= n; id++) {
        parts.push(
          frameBytes(`{"t":"req","id":${id},"m":"sync.heads","p":{"chat":"${ctx.chats[0]!.id}"}}`),
        );
      }
      expect = Array.from({ length: n }, (_, i) => i + 1);
    } else if (kind === 1) {
      count(ctx.stats, "flood: ignored frames");
      for (let i = f.int(1000, 5000); i > 0; i--) {
        parts.push(
          frameBytes(f.chance(0.5) ? `{"t":"zz${i}"}` : `{"t":"res","id":${i},"ok":true,"r":{}}`),
        );
      }
    } else {
      count(ctx.stats, "flood: 1 MiB frames");
      // Params too big for their schema: decoded in full, then refused.
      const big = `{"items":[${Array(40_000).fill('{"t":"AAAA","b":"AAAA"}').join(",")}]}`;
      for (let id = 1; id <= f.int(4, 16); id++) {
        parts.push(frameBytes(`{"t":"req","id":${id},"m":"addr.put","p":${big}}`));
        expect.push(id);
      }
    }
    const probe = 1_000_000;
    parts.push(
      frameBytes(`{"t":"req","id":${probe},"m":"sync.heads","p":{"chat":"${ctx.chats[0]!.id}"}}`),
    );
    expect.push(probe);
    for (const p of parts) ch.send(p);
    const done = await ch.until(() => expect.every((id) => ch.answers.has(id)), 20_000);
    assert.ok(
      done,
      `the victim ${
        ch.isClosed() ? "closed" : "did not answer"
      } a flood (${expect.length} requests)`,
    );
    for (const id of expect) {
      for (const a of ch.answers.get(id)!) {
        assert.ok(a.ok || a.code === "busy" || a.code === "bad_input", `flood answered ${a.code}`);
      }
    }
  } finally {
    ch.close();
  }
}

/** The last lines of a node's output, each cut short. */
const tail = (out: string) =>
  out.split("\n").slice(-40).map((l) => l.length > 300 ? `${l.slice(0, 300)}…` : l).join("\n");

/** Pushes entries in the chat over a session of its own, as mallory's node would. */
async function push(
  ctx: Ctx,
  chat: string,
  entries: readonly { signed: Uint8Array; sig: Uint8Array }[],
  bulk = false,
): Promise<ResultOf<"sync.push"> | RojError> {
  const client = await dial(ctx);
  const rpc = new RpcSession(await client.openRoj(), {
    hello: { features: bulk ? ["sync1", "bulk1"] : ["sync1"], name: "mallory" },
  });
  try {
    await rpc.ready;
    // With bulk1 (the victim lists it too) the entries go as a binary page.
    const pushed = bulk
      ? rpc.requestBulk("sync.push", { chat, entries })
      : rpc.request("sync.push", {
        chat,
        entries: entries.map((e) => ({ s: encodeB64(e.signed), g: encodeB64(e.sig) })),
      });
    return await pushed.catch((err) => {
      if (err instanceof RojError) return err;
      throw err;
    });
  } finally {
    rpc.close();
    client.close();
  }
}

/** Signed entries with one thing wrong each (testing/fuzz_entries.ts): none may be stored. */
async function brokenEntries(ctx: Ctx): Promise<void> {
  const { f } = ctx;
  const chat = f.pick(ctx.chats);
  const entries = [];
  for (let i = f.int(1, 4); i > 0; i--) {
    entries.push(await brokenEntry(f, ctx.signer, ctx.keyPair.publicKey, chat.id, chat.head));
  }
  for (const e of entries) count(ctx.stats, `entries: ${e.label}`);
  const res = await push(ctx, chat.id, entries, f.chance(0.5));
  const what = entries.map((e) => e.label).join(", ");
  if (res instanceof RojError) {
    assert.notEqual(res.code, "internal", `a push of ${what} was answered internal`);
  } else assert.equal(res.stored, 0, `the victim stored a broken entry (${what})`);
}

/**
 * Binary pushes (feature bulk1) of broken entries, their pages often made
 * hostile too (testing/fuzz.ts mutateBulk), and binary requests of methods
 * no binary form serves: each answered, never internal, never stored, the
 * session kept (a page that does not decode is answered bad_input).
 */
async function bulkSession(ctx: Ctx): Promise<void> {
  const { f } = ctx;
  const ch = await openChannel(ctx);
  try {
    ch.send(
      frameBytes(jsonText({ t: "hello", v: 1, features: ["sync1", "bulk1"], name: "mallory" })),
    );
    const sent: { id: number; method: string; expect: string }[] = [];
    const out: Uint8Array[] = [];
    for (let id = 1, n = f.int(1, 6); id <= n; id++) {
      const chat = f.pick(ctx.chats);
      const entries = [];
      for (let i = f.int(1, 3); i > 0; i--) {
        entries.push(await brokenEntry(f, ctx.signer, ctx.keyPair.publicKey, chat.id, chat.head));
      }
      let page = encodePushPage({ chat: f.chance(0.9) ? chat.id : "d-nosuchchat", entries });
      if (f.chance(0.7)) page = mutateBulk(f, page);
      const method = f.chance(0.85)
        ? "sync.push"
        : f.pick(["sync.heads", "mbox.get", "files.get", "constructor", "tostring"]);
      let expect = method === "sync.push" ? "valid" : "unknown";
      if (expect === "valid") {
        try {
          decodePushPage(page); // as the victim must
        } catch {
          expect = "invalid";
        }
      }
      if (page.length + 64 > MAX_FRAME) continue;
      out.push(encodeFrame({ t: "breq", id, m: method, bytes: page }));
      sent.push({ id, method, expect });
      count(ctx.stats, `bulk ${expect}`);
    }
    sendSplit(ch, concat(out), f);
    const answered = (id: number) => (ch.answers.get(id)?.length ?? 0) > 0;
    await ch.until(() => sent.every((s) => answered(s.id)), ANSWER_WAIT_MS);
    assert.ok(!ch.isClosed(), "the victim closed a session of well-formed binary requests");
    for (const s of sent) {
      const answers = ch.answers.get(s.id) ?? [];
      judge(ctx, `binary ${s.method}`, s.expect, answers);
      if (s.expect !== "valid") {
        assert.ok(answered(s.id), `binary ${s.method} (${s.expect}) unanswered`);
      }
      for (const a of answers) {
        if (a.ok) {
          const stored = (a as { r: { stored?: number } }).r.stored;
          assert.equal(stored, 0, "the victim stored a broken entry pushed in binary");
        }
      }
    }
  } finally {
    ch.close();
  }
}

/**
 * Alice writes in each chat, and mallory pushes her own message in the direct
 * one as an honest node would (in the group hers would need its key).
 */
async function honestWrites(ctx: Ctx, control: ControlClient, batch: number): Promise<void> {
  const { f } = ctx;
  for (const chat of ctx.chats) {
    const text = `batch ${batch}: ${f.pick(["plain", "é€😀", "\u001b[31m", "x".repeat(2000)])}`;
    const m = await control.call("send", { chat: chat.name, text });
    chat.written.set(m.hash, { body: text, mine: true });
    chat.head = { ...chat.head, clock: Math.max(chat.head.clock, m.lamport) };
  }
  const direct = ctx.chats[0]!;
  const clock = direct.head.clock;
  // Now and then a body of exactly MAX_BODY_BYTES, in three-byte characters: the largest.
  const body = f.chance(0.2)
    ? "€".repeat(Math.floor(MAX_BODY_BYTES / 3)) + "a".repeat(MAX_BODY_BYTES % 3)
    : `from mallory ${batch}`;
  const entry = await createEntry(ctx.signer, {
    chat: direct.id,
    author: ctx.keyPair.publicKey,
    seq: direct.head.seq + 1,
    prev: direct.head.hash,
    lamport: clock + 1,
    ts: Date.now(),
    type: "msg",
    body,
  });
  const res = await push(ctx, direct.id, [entry], f.chance(0.5));
  assert.ok(
    !(res instanceof RojError) && res.stored === 1,
    `mallory's honest entry was not stored: ${res instanceof RojError ? res.message : res.reason}`,
  );
  direct.head = { seq: entry.seq, hash: entry.hash, clock: clock + 1 };
  direct.written.set(toHex(entry.hash), { body: entry.body, mine: false });
}

/** A process's resident memory now, in bytes (Linux; Deno reads /proc only with --allow-all). */
async function rssOf(pid: number): Promise<number> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/status`], stdout: "piped" })
    .output();
  const m = /^VmRSS:\s+(\d+) kB/m.exec(new TextDecoder().decode(out.stdout));
  return Number(m![1]) * 1024;
}

/** Bytes of the store on disk: roj.kv with its -wal and -shm. */
async function storeBytes(dir: string): Promise<number> {
  let n = 0;
  for (const s of ["", "-wal", "-shm"]) {
    n += await Deno.stat(`${dir}/roj.kv${s}`).then((st) => st.size, () => 0);
  }
  return n;
}

Deno.test("hostile-peer fuzz: a contact's garbage, bounds and floods leave the victim answering, its messages whole, its memory and store bounded", async () => {
  const started = Date.now();
  const seed = fuzzSeed("hostile fuzz");
  const f = new Fuzz(seed);
  const alice = await makeDataDir("alice");
  const mallory = await generateKeyPair("mallory");
  await seedContacts(alice.dir, [{ publicKey: mallory.publicKey, name: "mallory" }]);
  const port = freePort(HOST);
  const victim = await spawnNode(alice.dir, `${HOST}:${port}`, "alice", {
    env: { DENO_V8_FLAGS: `--max-old-space-size=${OLD_SPACE_MIB}` },
  });
  const ctx: Ctx = {
    f,
    port,
    keyPair: mallory,
    victimKey: alice.publicKey,
    chats: [],
    stats: new Map(),
    slow: new Map(),
    problems: [],
    signer: await createSigner(mallory),
  };
  try {
    const control = await victim.control();
    ctx.chats.push({
      name: "mallory",
      id: directChatId(alice.publicKey, mallory.publicKey),
      head: { seq: 0, hash: null, clock: 0 },
      written: new Map(),
    });
    const group = await control.call("group.create", { name: "climbers" });
    await control.call("group.add", { group: "climbers", members: ["mallory"] });
    ctx.chats.push({
      name: "climbers",
      id: group.id,
      head: { seq: 0, hash: null, clock: 0 },
      written: new Map(),
    });
    // What founding the group wrote (its membership entries), as alice reads it.
    for (const m of await control.call("read", { chat: "climbers", markRead: false })) {
      ctx.chats[1]!.written.set(m.hash, { body: m.body, mine: m.mine });
      ctx.chats[1]!.head = {
        ...ctx.chats[1]!.head,
        clock: Math.max(ctx.chats[1]!.head.clock, m.lamport),
      };
    }
    await honestWrites(ctx, control, 0);
    const rss0 = await rssOf(victim.child.pid);
    const store0 = await storeBytes(alice.dir);
    let peakRss = rss0;
    let batch = 0;
    while (Date.now() - started < BUDGET_MS) {
      batch++;
      const batchEnd = Date.now() + 3_000;
      while (Date.now() < batchEnd) {
        const kind = f.int(0, 11);
        if (kind <= 3) await requestSession(ctx);
        else if (kind <= 6) await frameSession(ctx);
        else if (kind === 7) await rawSocketCase(ctx);
        else if (kind === 8) await brokenEntries(ctx);
        else if (kind === 11) await bulkSession(ctx);
        else await flood(ctx);
      }
      await honestWrites(ctx, control, batch);

      assert.deepEqual(ctx.problems, [], `after batch ${batch} (seed ${seed})`);
      // The victim answers `roj status`, on the CLI.
      const status = await cliRun(["status", "--data", alice.dir, "--json"]);
      assert.equal(status.code, 0, `roj status failed after batch ${batch}: ${status.stderr}`);
      assert.equal(JSON.parse(status.stdout).name, "alice");
      // Every message written so far reads back as it was, and nothing else is there.
      for (const chat of ctx.chats) {
        const read = await control.call("read", { chat: chat.name, markRead: false });
        assert.deepEqual(
          new Map(read.map((m) => [m.hash, { body: m.body, mine: m.mine }])),
          chat.written,
          `${chat.name} changed after batch ${batch} (seed ${seed})`,
        );
      }
      const rss = await rssOf(victim.child.pid);
      const store = await storeBytes(alice.dir);
      peakRss = Math.max(peakRss, rss);
      console.log(
        `batch ${batch}: rss ${(rss / MiB).toFixed(0)} MiB (+${((rss - rss0) / MiB).toFixed(0)}),` +
          ` store ${(store / MiB).toFixed(2)} MiB (+${((store - store0) / MiB).toFixed(2)})`,
      );
      // Memory: the heap may fill to its cap (OLD_SPACE_MIB) with what is live and garbage;
      // outside it, the contact's unsent answers (HARD_BUFFER_BYTES, 16 MiB) and 48 MiB for
      // V8's young generation and code, ssh2's and the store's native buffers (measured: the
      // victim levels off at ~+95 MiB; with chacha20's leak it passed +200 MiB in 40 s).
      const rssCap = OLD_SPACE_MIB * MiB + HARD_BUFFER_BYTES + 48 * MiB;
      assert.ok(
        rss - rss0 < rssCap,
        `the victim's RSS grew by ${((rss - rss0) / MiB).toFixed(0)} MiB (cap ${rssCap / MiB})`,
      );
      // Store: what a contact may leave is its sealed copies (SEALED_QUOTA x 1400 bytes,
      // ~0.7 MiB), its honest messages and one fork record; the rest is SQLite's WAL, which
      // grows to ~4 MiB (1000 pages) before a checkpoint. 8 MiB leaves room for both twice.
      const storeCap = 8 * MiB + SEALED_QUOTA * 1400 * 2;
      assert.ok(
        store - store0 < storeCap,
        `the store grew by ${((store - store0) / MiB).toFixed(2)} MiB (cap ${storeCap / MiB})`,
      );
    }
    await control.close();
    console.log(
      `hostile fuzz: seed ${seed}, ${batch} batches in ${
        ((Date.now() - started) / 1000).toFixed(0)
      } s,` +
        ` peak rss +${((peakRss - rss0) / MiB).toFixed(0)} MiB`,
    );
    console.log([...ctx.stats].sort().map(([k, n]) => `  ${k}: ${n}`).join("\n"));
    if (ctx.slow.size > 0) {
      console.log(`  valid requests still running at their session's end:`, ctx.slow);
    }
    // A full run tries every method of the table, so a new one is fuzzed as soon as it is there.
    if (BUDGET_MS >= 30_000) {
      const untried = METHODS.flatMap((m) =>
        ["valid", "invalid"].filter((k) => !ctx.stats.has(`${k} ${m}`)).map((k) => `${k} ${m}`)
      );
      assert.deepEqual(untried, [], "methods the fuzz did not try");
    }
  } catch (err) {
    console.log(
      `hostile fuzz failed with seed ${seed}; the victim said:\n${tail(victim.output())}`,
    );
    throw err;
  } finally {
    await victim.stop();
    await Deno.remove(alice.dir, { recursive: true }).catch(() => {});
  }
});
