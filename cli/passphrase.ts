/**
 * Reading a passphrase: from $ROJ_PASSPHRASE (scripts, tests), from the
 * terminal without echo, or as one line from a pipe.
 */
const decoder = new TextDecoder();

async function readLine(): Promise<string> {
  const buf = new Uint8Array(1);
  const bytes: number[] = [];
  while (bytes.length < 1024) {
    const n = await Deno.stdin.read(buf);
    if (n === null || buf[0] === 0x0a) break;
    if (buf[0] === 0x0d && Deno.stdin.isTerminal()) break;
    if (buf[0] === 0x03 && Deno.stdin.isTerminal()) {
      Deno.stdin.setRaw(false);
      Deno.exit(130);
    }
    if ((buf[0] === 0x7f || buf[0] === 0x08) && Deno.stdin.isTerminal()) {
      bytes.pop();
      continue;
    }
    bytes.push(buf[0]!);
  }
  return decoder.decode(new Uint8Array(bytes)).replace(/\r$/, "");
}

/** Asks for a passphrase on stderr. */
export async function askPassphrase(why: string): Promise<string> {
  const fromEnv = Deno.env.get("ROJ_PASSPHRASE");
  if (fromEnv !== undefined) return fromEnv;
  const tty = Deno.stdin.isTerminal();
  if (tty) {
    Deno.stderr.writeSync(new TextEncoder().encode(`${why}: `));
    Deno.stdin.setRaw(true);
  }
  try {
    return await readLine();
  } finally {
    if (tty) {
      Deno.stdin.setRaw(false);
      Deno.stderr.writeSync(new TextEncoder().encode("\n"));
    }
  }
}
