/** Options and argument parsers shared by the commands. */
import { Option } from "commander";
import { RojError } from "../node/mod.ts";

export function dataOption(): Option {
  return new Option(
    "--data <dir>",
    "data folder (default: $ROJ_HOME, $XDG_DATA_HOME/roj or ~/.local/share/roj)",
  );
}

/**
 * A whole number from the command line, within bounds.
 * @throws {RojError} bad_input naming the text seen.
 */
export function parsePositive(value: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new RojError(
      "bad_input",
      `expected a positive whole number, got ${JSON.stringify(value.slice(0, 40))}`,
    );
  }
  if (n > max) {
    throw new RojError("bad_input", `expected a number from 1 to ${max}, got ${value.trim()}`);
  }
  return n;
}

/**
 * The ssh-agent's socket from $SSH_AUTH_SOCK, as node options: for an
 * identity whose key is in the agent (`roj init --agent`).
 */
export function agentOptions(): { agentSocket?: string } {
  let socket: string | undefined;
  try {
    socket = Deno.env.get("SSH_AUTH_SOCK");
  } catch { /* not allowed to read it: no agent */ }
  return socket ? { agentSocket: socket } : {};
}
