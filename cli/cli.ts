/**
 * The `roj` command line. Each command is a thin shell over node/: it parses,
 * calls one node method and prints. Failures become one line on stderr and a
 * non-zero exit; a stack trace only with ROJ_DEBUG=1.
 */
import { Command, CommanderError, Option } from "commander";
import {
  checkName,
  entryToJson,
  fingerprintLine,
  initProfile,
  isRojError,
  resolveDataDir,
  RojError,
  RojNode,
} from "../node/mod.ts";
import { askPassphrase } from "./passphrase.ts";
import { entryLine } from "./format.ts";

const encoder = new TextEncoder();

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const stdio: CliIo = {
  out: (t) => Deno.stdout.writeSync(encoder.encode(t)),
  err: (t) => Deno.stderr.writeSync(encoder.encode(t)),
};

function dataOption(): Option {
  return new Option(
    "--data <dir>",
    "data folder (default: $ROJ_HOME, $XDG_DATA_HOME/roj or ~/.local/share/roj)",
  );
}

async function withNode<T>(opts: { data?: string }, fn: (node: RojNode) => Promise<T>): Promise<T> {
  const node = await RojNode.open({ dataDir: resolveDataDir(opts.data), ask: askPassphrase });
  try {
    return await fn(node);
  } finally {
    node.close();
  }
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new RojError(
      "bad_input",
      `expected a positive whole number, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** Builds the command tree; `io` receives everything printed. */
export function buildCli(io: CliIo = stdio): Command {
  const program = new Command("roj")
    .description("Roj: a peer-to-peer messenger over SSH. Every command has --help.")
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  program.command("init")
    .description("create an identity (OpenSSH ed25519 key) and the store in the data folder")
    .addOption(dataOption())
    .option("--name <name>", 'the name your contacts see (default: the key\'s comment, or "me")')
    .option(
      "--key <file>",
      "adopt an existing OpenSSH ed25519 key instead of making one; it stays where it is",
    )
    .option("--passphrase", "protect the new key with a passphrase (asked for; or $ROJ_PASSPHRASE)")
    .option("--json", "print the result as JSON")
    .action(
      async (
        opts: { data?: string; name?: string; key?: string; passphrase?: boolean; json?: boolean },
      ) => {
        const dir = resolveDataDir(opts.data);
        if (opts.name !== undefined) checkName(opts.name);
        const profile = await initProfile(dir, {
          ...(opts.name !== undefined ? { name: opts.name } : {}),
          ...(opts.key !== undefined ? { adoptKey: opts.key } : {}),
          ...(opts.passphrase ? { passphrase: await askPassphrase("new passphrase") } : {}),
          ask: askPassphrase,
        });
        profile.store.close();
        const line = fingerprintLine(profile.keyPair.publicKey, profile.name);
        if (opts.json) {
          io.out(
            JSON.stringify({ dataDir: dir, name: profile.name, fingerprint: line.split(" ")[1] }) +
              "\n",
          );
        } else io.out(`created identity ${profile.name} in ${dir}\n${line}\n`);
      },
    );

  program.command("id")
    .description("print this node's public key and fingerprint (as ssh-keygen -lf does)")
    .addOption(dataOption())
    .option("--json", "print as JSON")
    .action((opts: { data?: string; json?: boolean }) =>
      withNode(opts, (node) => {
        const fp = fingerprintLine(node.publicKey, node.name);
        if (opts.json) {
          io.out(
            JSON.stringify({
              name: node.name,
              publicKey: node.keyLine,
              fingerprint: node.fingerprint,
              dataDir: node.profile.paths.dir,
            }) + "\n",
          );
        } else io.out(`${node.keyLine}\n${fp}\n`);
        return Promise.resolve();
      })
    );

  program.command("note")
    .description("add a note to your note-to-self chat")
    .argument("<text>", "the note")
    .addOption(dataOption())
    .option("--json", "print the stored entry as JSON")
    .action((text: string, opts: { data?: string; json?: boolean }) =>
      withNode(opts, async (node) => {
        const e = await node.note(text);
        if (opts.json) io.out(JSON.stringify(entryToJson(e)) + "\n");
        else io.out(`stored note ${e.seq}\n`);
      })
    );

  program.command("read")
    .description('print a chat in order ("notes" is your note-to-self chat)')
    .argument("<chat>", "chat name")
    .addOption(dataOption())
    .option("--last <n>", "only the newest n entries", parsePositive)
    .option("--json", "print as a JSON array")
    .action((chat: string, opts: { data?: string; json?: boolean; last?: number }) =>
      withNode(opts, async (node) => {
        const entries = await node.read(chat, opts.last !== undefined ? { last: opts.last } : {});
        if (opts.json) {
          io.out(
            JSON.stringify(entries.map((e) => {
              const j = entryToJson(e);
              return {
                seq: j.seq,
                author: j.author,
                lamport: j.lamport,
                ts: j.ts,
                type: j.type,
                body: j.body,
                hash: j.hash,
              };
            })) + "\n",
          );
          return;
        }
        if (entries.length === 0) io.out("(no messages yet)\n");
        for (const e of entries) io.out(entryLine(e, node.name) + "\n");
      })
    );

  program.command("export")
    .description(
      "print a chat as signed entries, one JSON object per line (verifiable with ssh-keygen -Y verify)",
    )
    .argument("<chat>", "chat name")
    .addOption(dataOption())
    .action((chat: string, opts: { data?: string }) =>
      withNode(opts, async (node) => {
        for (const e of await node.read(chat)) io.out(JSON.stringify(entryToJson(e)) + "\n");
      })
    );

  program.command("run")
    .description("run the node in the foreground (creates an identity on first start)")
    .addOption(dataOption())
    .action(async (opts: { data?: string }) => {
      const dir = resolveDataDir(opts.data);
      try {
        const created = await initProfile(dir, { ask: askPassphrase });
        created.store.close();
        io.err(`created identity in ${dir}\n`);
      } catch (err) {
        if (!isRojError(err, "exists")) throw err;
      }
      const node = await RojNode.open({ dataDir: dir, ask: askPassphrase });
      io.out(
        `roj node ${node.name} ${node.fingerprint}\ndata: ${dir}\nrunning; press Ctrl-C to stop\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        Deno.addSignalListener("SIGINT", stop);
        Deno.addSignalListener("SIGTERM", stop);
      });
      node.close();
      io.out("stopped\n");
    });

  return program;
}

/** Runs the CLI and returns the exit code. */
export async function runCli(args: string[], io: CliIo = stdio): Promise<number> {
  const program = buildCli(io);
  try {
    await program.parseAsync(args, { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    // The reader went away (`roj export notes | head`): stop quietly, as Unix tools do.
    if (err instanceof Deno.errors.BrokenPipe) return 0;
    if (isRojError(err)) {
      io.err(`roj: ${err.message}\n`);
      return 1;
    }
    if (err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotFound) {
      io.err(`roj: ${(err as Error).message}\n`);
      return 1;
    }
    io.err(`roj: internal error: ${(err as Error)?.message ?? String(err)}\n`);
    if (Deno.env.get("ROJ_DEBUG")) io.err(`${(err as Error)?.stack}\n`);
    return 70;
  }
}
