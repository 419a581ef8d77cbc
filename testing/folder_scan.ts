/**
 * Searching a node's data folder for what must not be there: every file's raw
 * bytes, and every Deno KV store in it listed key by key and value by value
 * (so a value kept in a form the file does not show as is still counts).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { encodeB64 } from "../node/protocol/mod.ts";
import { fingerprint, publicKeyBlob, publicKeyLine } from "../node/identity/mod.ts";
import { toHex } from "../node/log/mod.ts";

export interface Needle {
  readonly what: string;
  readonly bytes: Uint8Array;
}

const enc = (s: string) => new TextEncoder().encode(s);

/** A person's name and key in every form a careless store might keep them. */
export function personNeedles(who: string, name: string, key: Uint8Array): Needle[] {
  const blob = publicKeyBlob(key);
  const digest = sha256(blob);
  const fp = fingerprint(key);
  return [
    { what: `${who}'s name`, bytes: enc(name) },
    { what: `${who}'s key (raw)`, bytes: key },
    { what: `${who}'s key (base64)`, bytes: enc(encodeB64(key)) },
    { what: `${who}'s key (hex)`, bytes: enc(toHex(key)) },
    { what: `${who}'s key blob (raw)`, bytes: blob },
    {
      what: `${who}'s key blob (base64, as in a key line)`,
      bytes: enc(publicKeyLine(key).split(" ")[1]!),
    },
    { what: `${who}'s fingerprint`, bytes: enc(fp) },
    { what: `${who}'s fingerprint (without SHA256:)`, bytes: enc(fp.slice(7)) },
    { what: `${who}'s fingerprint digest (raw)`, bytes: digest },
    { what: `${who}'s fingerprint digest (hex)`, bytes: enc(toHex(digest)) },
  ];
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

async function filesUnder(dir: string): Promise<Array<{ path: string; bytes: Uint8Array }>> {
  const out: Array<{ path: string; bytes: Uint8Array }> = [];
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await filesUnder(path));
    else if (e.isFile) out.push({ path, bytes: await Deno.readFile(path) });
  }
  return out;
}

/** Every leaf of a KV key or value as bytes: byte arrays as they are, the rest as text. */
function leaves(v: unknown, out: Uint8Array[]): void {
  if (v instanceof Uint8Array) out.push(v);
  else if (Array.isArray(v)) { for (const x of v) leaves(x, out); }
  else if (v instanceof Map) { for (const [k, x] of v) (leaves(k, out), leaves(x, out)); }
  else if (v instanceof Set) { for (const x of v) leaves(x, out); }
  else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) (out.push(enc(k)), leaves(x, out));
  } else if (v !== undefined && v !== null) out.push(enc(String(v)));
}

/**
 * Where, in `dir` (a stopped node's folder), any needle occurs: "path holds
 * what" for each hit, raw file bytes and KV entries alike. Empty: none.
 */
export async function scanFolder(dir: string, needles: Needle[]): Promise<string[]> {
  const hits: string[] = [];
  const files = await filesUnder(dir);
  for (const f of files) {
    for (const n of needles) {
      if (indexOf(f.bytes, n.bytes) >= 0) hits.push(`${f.path} holds ${n.what}`);
    }
  }
  for (const f of files) {
    if (!f.path.endsWith(".kv")) continue;
    const kv = await Deno.openKv(f.path);
    try {
      for await (const r of kv.list<unknown>({ prefix: [] })) {
        const parts: Uint8Array[] = [];
        leaves(r.key, parts);
        leaves(r.value, parts);
        for (const p of parts) {
          for (const n of needles) {
            if (indexOf(p, n.bytes) >= 0) {
              hits.push(`${f.path} entry ${JSON.stringify(r.key.map(String))} holds ${n.what}`);
            }
          }
        }
      }
    } finally {
      kv.close();
    }
  }
  return [...new Set(hits)];
}
