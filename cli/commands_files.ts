/**
 * Files in a chat: `roj send <chat> --file PATH [--caption T]` (progress on
 * stderr while the contact fetches it), `roj files <chat> [--json]`, and
 * `roj get <chat> <file-id> [--out DIR] [--retry]`. Each talks to the
 * running node over its control socket; the node reads and writes the files.
 */
import type { Command } from "commander";
import {
  type ControlClient,
  type FileView,
  jsonLine,
  type NodeEvent,
  RojError,
} from "../node/mod.ts";
import { escapeControl, formatBytes, shortTime, table } from "./format.ts";
import type { CliIo } from "./io.ts";
import { dataOption } from "./options.ts";
import { withControl } from "./commands_node.ts";

const json = (value: unknown) => jsonLine(value) + "\n";
/** Progress that stops for this long ends the wait (the contact went away, or is slow). */
const STALL_MS = 30_000;

type FileEvent = Extract<NodeEvent, { type: "file" }>;

/** "2G", "500M", "64k" or a number of bytes. @throws {RojError} bad_input */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(text);
  if (!m) {
    throw new RojError(
      "bad_input",
      `expected a size such as 2G, 500M or 1048576, got ${JSON.stringify(text.slice(0, 40))}`,
    );
  }
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase()]!;
  const n = Math.floor(Number(m[1]) * mult);
  if (n < 1 || !Number.isSafeInteger(n)) {
    throw new RojError("bad_input", `size out of range: ${text}`);
  }
  return n;
}

/** "complete", "40%", "failed: why", "refused: why". */
export function fileState(f: FileView): string {
  if (f.state === "complete") return "complete";
  const pct = f.total > 0 ? Math.floor((100 * f.done) / f.total) : 0;
  if (f.state === "fetching") {
    return `${pct}%${f.active ? "" : f.reason ? ` (${f.reason})` : " (waiting)"}`;
  }
  return `${f.state}: ${f.reason ?? "unknown"}`;
}

/** `roj files`: id, name, size, from, state, when. */
export function fileLines(files: readonly FileView[]): string[] {
  if (files.length === 0) return ["(no files)"];
  return table(files.map((f) => [
    f.id,
    escapeControl(f.name),
    formatBytes(f.size),
    escapeControl(f.from),
    escapeControl(fileState(f)),
    shortTime(f.ts),
  ]));
}

/** A progress bar line (ends in \r, for a terminal). */
export function progressBar(done: number, total: number, size: number, what: string): string {
  const pct = total > 0 ? done / total : 1;
  const width = 24;
  const full = Math.round(pct * width);
  return `\r${what} [${"#".repeat(full)}${".".repeat(width - full)}] ${Math.floor(pct * 100)}% of ${
    formatBytes(size)
  }`;
}

/**
 * Follows one file's events until it is complete on the other side, fails,
 * or nothing moves for STALL_MS; draws progress on stderr. Resolves to the
 * last event seen (or null).
 */
function followFile(
  client: ControlClient,
  io: CliIo,
  chat: string,
  side: FileEvent["side"],
  id: () => string | null,
): { done: Promise<FileEvent | null>; stop: () => void } {
  let last: FileEvent | null = null;
  let finish: (e: FileEvent | null) => void = () => {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  const done = new Promise<FileEvent | null>((resolve) => {
    finish = (e) => {
      clearTimeout(timer);
      resolve(e);
    };
  });
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => finish(last), STALL_MS);
  };
  client.follow({ chat }, (event) => {
    if (event.type !== "file" || event.side !== side || event.id !== id()) return;
    last = event;
    arm();
    if (event.op === "progress" || event.op === "complete") {
      io.err(progressBar(event.done, event.total, event.size, escapeControl(event.name)));
    }
    if (event.op === "complete" || event.op === "failed" || event.op === "refused") {
      io.err("\n");
      finish(event);
    }
  }).catch(() => finish(last));
  return { done, stop: () => finish(last) };
}

/** Whether the chat's contact has a session up now. */
async function online(client: ControlClient, chat: string): Promise<boolean> {
  const up = new Set(
    (await client.call("peers", {})).filter((p) => p.state === "connected").map((p) => p.name),
  );
  if (up.has(chat)) return true;
  // A group: any other member online may fetch it.
  if (!(await client.call("chats", {})).some((c) => c.name === chat && c.kind === "group")) {
    return false;
  }
  return (await client.call("group.members", { group: chat })).some((m) => !m.me && up.has(m.name));
}

/**
 * `roj send <chat> --file PATH`: the node reads the file into its store and
 * signs the entry; while the contact is online, progress of their fetch.
 * "sent" once every chunk went to them (they check each), else "stored";
 * in a group, once one member (or an anchor) has every chunk.
 */
export async function sendFile(
  client: ControlClient,
  io: CliIo,
  chat: string,
  path: string,
  opts: { caption?: string; json?: boolean; wait: number },
): Promise<void> {
  let abs: string;
  try {
    abs = await Deno.realPath(path);
  } catch (err) {
    throw new RojError("not_found", `cannot read ${JSON.stringify(path)}`, { cause: err });
  }
  let id: string | null = null;
  const follow = opts.wait > 0 ? followFile(client, io, chat, "send", () => id) : null;
  io.err(`reading ${escapeControl(abs)}…\n`);
  const f = await client.call("file.send", {
    chat,
    path: abs,
    ...(opts.caption ? { caption: opts.caption } : {}),
  });
  id = f.id;
  let state = "stored";
  if (follow && f.total > 0 && await online(client, chat)) {
    const last = await follow.done;
    if (last?.op === "complete") state = "sent";
  } else if (f.total === 0) state = "sent";
  follow?.stop();
  io.out(
    opts.json
      ? json({ ...f, delivery: state })
      : `${f.id} ${escapeControl(f.name)} (${formatBytes(f.size)}): ${state}\n`,
  );
}

/** Adds `roj files` and `roj get` to `program`. */
export function addFileCommands(program: Command, io: CliIo): void {
  program.command("files")
    .description(
      "list the files in a chat: id, name, size, from, state (complete / 40% / failed: why)",
    )
    .argument("<chat>", "a contact's or a group's name")
    .addOption(dataOption())
    .option("--json", "print as a JSON array")
    .option(
      "--cancel <file-id>",
      "stop fetching that file (ours: stop sending it); roj get --retry resumes",
    )
    .action((chat: string, opts: { data?: string; json?: boolean; cancel?: string }) =>
      withControl(opts, async (client) => {
        if (opts.cancel !== undefined) {
          const f = await client.call("file.cancel", { chat, id: opts.cancel });
          io.out(opts.json ? json(f) : fileLines([f]).join("\n") + "\n");
          return;
        }
        const files = await client.call("files", { chat });
        io.out(opts.json ? json(files) : fileLines(files).join("\n") + "\n");
      })
    );

  program.command("get")
    .description("save a received file into a folder (never over an existing file)")
    .argument("<chat>", "a contact's or a group's name")
    .argument("<file-id>", "the file's id as `roj files` shows it")
    .addOption(dataOption())
    .option("--out <dir>", "the folder to save into (default: the current one)")
    .option("--retry", "ask the sender again for a file that failed or stopped, and wait for it")
    .option("--json", "print {path, size} as JSON")
    .action(
      (
        chat: string,
        id: string,
        opts: { data?: string; out?: string; retry?: boolean; json?: boolean },
      ) =>
        withControl(opts, async (client) => {
          let out: string;
          try {
            out = await Deno.realPath(opts.out ?? ".");
          } catch (err) {
            throw new RojError("not_found", `no folder ${JSON.stringify(opts.out)}`, {
              cause: err,
            });
          }
          if (opts.retry) {
            let fid: string | null = null;
            const follow = followFile(client, io, chat, "receive", () => fid);
            const f = await client.call("file.retry", { chat, id });
            fid = f.id;
            if (f.state !== "complete") await follow.done;
            follow.stop();
          }
          const saved = await client.call("file.save", { chat, id, out });
          io.out(
            opts.json
              ? json(saved)
              : `saved ${escapeControl(saved.path)} (${formatBytes(saved.size)})\n`,
          );
        }),
    );
}
