/** Exported key files in tests: $ROJ_PASSPHRASE for a CLI run, and the real ssh-keygen reading them. */
import assert from "node:assert/strict";

/** `roj <args>` with $ROJ_PASSPHRASE set to `pass` (restored after). */
export async function withPassphrase<T>(pass: string, fn: () => Promise<T>): Promise<T> {
  const before = Deno.env.get("ROJ_PASSPHRASE");
  Deno.env.set("ROJ_PASSPHRASE", pass);
  try {
    return await fn();
  } finally {
    if (before === undefined) Deno.env.delete("ROJ_PASSPHRASE");
    else Deno.env.set("ROJ_PASSPHRASE", before);
  }
}

/** What the real ssh-keygen says the public key of `file` is, opened with `pass`. */
export async function sshKeygenPublic(file: string, pass: string): Promise<string> {
  const out = await new Deno.Command("ssh-keygen", { args: ["-y", "-P", pass, "-f", file] })
    .output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}
