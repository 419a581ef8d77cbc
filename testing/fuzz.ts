/**
 * Hostile inputs for fuzz tests, all drawn from one seed so that a failure
 * replays: random bytes, values at and past the bounds of a JSON Schema (the
 * protocol's zod schemas through `z.toJSONSchema`, so a new method or field is
 * covered as soon as it is in its table), and JSON text that `JSON.stringify`
 * would never write (deep nesting, 1e309, lone surrogates, `__proto__` keys).
 * Test code only.
 */
import { base64 } from "@scure/base";
import { seededRandom } from "./temp.ts";

/** The subset of JSON Schema that `z.toJSONSchema` writes for the protocol's schemas. */
export interface Schema {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly items?: Schema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly anyOf?: readonly Schema[];
  readonly oneOf?: readonly Schema[];
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
}

/** JSON text put verbatim into what {@linkcode jsonText} writes. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** A value {@linkcode jsonText} can write. */
export type Json =
  | null
  | boolean
  | number
  | string
  | RawJson
  | readonly Json[]
  | { readonly [key: string]: Json };

/** JSON text for `value`, with RawJson pieces as they are. */
export function jsonText(value: Json): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(jsonText).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const fields = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`);
    return `{${fields.join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Random choices from a seed (mulberry32, as testing/temp.ts). */
export class Fuzz {
  readonly #next: () => number;

  constructor(readonly seed: number) {
    this.#next = seededRandom(seed);
  }

  /** In [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.#next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.#next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(0, 255);
    return out;
  }

  /** `n` characters of `alphabet`. */
  text(alphabet: string, n: number): string {
    let s = "";
    for (let i = 0; i < n; i++) s += alphabet[this.int(0, alphabet.length - 1)];
    return s;
  }
}

/** The seed from $ROJ_FUZZ_SEED, else a fresh one; printed first so that a failure replays. */
export function fuzzSeed(label: string): number {
  const fromEnv = Deno.env.get("ROJ_FUZZ_SEED");
  const seed = fromEnv ? Number(fromEnv) >>> 0 : Math.floor(Math.random() * 2 ** 32);
  console.log(`${label}: seed ${seed} (replay with ROJ_FUZZ_SEED=${seed})`);
  return seed;
}

const BASE64_PATTERN = "^[A-Za-z0-9+/]*={0,2}$";

/** The characters of a pattern's first `[…]` class and its `{n}` / `{a,b}` count, if any. */
function patternParts(pattern: string): { alphabet: string; min?: number; max?: number } {
  const m = /^\^\[([^\]]+)\](\{(\d+)(?:,(\d+))?\}|\*|\+)?/.exec(pattern);
  if (!m) return { alphabet: "abc123" };
  let alphabet = "";
  const cls = m[1]!;
  for (let i = 0; i < cls.length; i++) {
    if (cls[i + 1] === "-" && i + 2 < cls.length) {
      for (let c = cls.charCodeAt(i); c <= cls.charCodeAt(i + 2); c++) {
        alphabet += String.fromCharCode(c);
      }
      i += 2;
    } else alphabet += cls[i];
  }
  if (m[3] === undefined) return { alphabet, ...(m[2] === "+" ? { min: 1 } : {}) };
  const min = Number(m[3]);
  return { alphabet, min, max: m[4] === undefined ? min : Number(m[4]) };
}

function stringBounds(s: Schema): { alphabet: string; min: number; max: number } {
  const parts = s.pattern ? patternParts(s.pattern) : { alphabet: "abcdefgh0123 .-" };
  const min = Math.max(s.minLength ?? 0, parts.min ?? 0);
  const max = Math.min(s.maxLength ?? 64, parts.max ?? Infinity);
  return { alphabet: parts.alphabet, min, max: Math.max(min, max) };
}

/**
 * A string that a simple pattern matches: literals, `\\x` escapes, `[…]`
 * classes with ranges, `(?:a|b)` groups, and `{n}`, `{a,b}`, `?`, `*`, `+`;
 * undefined for anything else (lookarounds, negated classes, backrefs).
 */
function samplePattern(pattern: string, f: Fuzz): string | undefined {
  let i = pattern.startsWith("^") ? 1 : 0;
  const end = pattern.endsWith("$") ? pattern.length - 1 : pattern.length;
  const atom = (): (() => string) | undefined => {
    const c = pattern[i]!;
    if (c === "[") {
      const close = pattern.indexOf("]", i + 1);
      if (close < 0 || pattern[i + 1] === "^") return undefined;
      const { alphabet } = patternParts(`^${pattern.slice(i, close + 1)}`);
      i = close + 1;
      return () => f.text(alphabet, 1);
    }
    if (c === "(") {
      i += pattern.startsWith("(?:", i) ? 3 : 1;
      const alts: Array<() => string> = [];
      for (;;) {
        const seq = sequence(")");
        if (!seq) return undefined;
        alts.push(seq);
        if (pattern[i] === "|") i++;
        else if (pattern[i] === ")") break;
        else return undefined;
      }
      i++;
      return () => f.pick(alts)();
    }
    if ("|)*+?{".includes(c)) return undefined;
    const lit = c === "\\" ? pattern[++i] : c;
    if (lit === undefined || (c === "\\" && /[dwsDWSbB0-9]/.test(lit))) return undefined;
    i++;
    return () => lit;
  };
  const sequence = (stop: string): (() => string) | undefined => {
    const parts: Array<() => string> = [];
    while (i < end && pattern[i] !== "|" && pattern[i] !== stop) {
      const a = atom();
      if (!a) return undefined;
      let lo = 1, hi = 1;
      const q = /^(?:\{(\d+)(?:,(\d+))?\}|[?*+])/.exec(pattern.slice(i, end));
      if (q) {
        i += q[0].length;
        if (q[0] === "?") [lo, hi] = [0, 1];
        else if (q[0] === "*") [lo, hi] = [0, 4];
        else if (q[0] === "+") [lo, hi] = [1, 4];
        else [lo, hi] = [Number(q[1]), q[2] === undefined ? Number(q[1]) : Number(q[2])];
      }
      parts.push(() => Array.from({ length: f.int(lo, Math.min(hi, lo + 8)) }, a).join(""));
    }
    return () => parts.map((p) => p()).join("");
  };
  const whole = sequence("");
  return whole && i === end ? whole() : undefined;
}

/** A pattern of one character class and its count, which stringBounds follows. */
const ONE_CLASS = /^\^\[[^\]]+\](?:\{\d+(?:,\d+)?\}|\*|\+)?\$$/;

/** A string of length in [min, max] that `s` takes (base64 of random bytes for base64 fields). */
function validString(s: Schema, f: Fuzz, length?: number): string {
  const { alphabet, min, max } = stringBounds(s);
  if (s.pattern && s.pattern !== BASE64_PATTERN && !ONE_CLASS.test(s.pattern)) {
    // Not one class with a count: a pattern with literals or alternatives.
    const v = samplePattern(s.pattern, f);
    if (v !== undefined) return v;
  }
  if (s.pattern === BASE64_PATTERN) {
    const top = Math.floor(max / 4) * 3;
    const n = length === undefined ? f.int(1, Math.min(top, 48)) : Math.floor(length / 4) * 3;
    return base64.encode(f.bytes(Math.max(1, Math.min(n, top))));
  }
  return f.text(alphabet, length ?? f.int(min, Math.min(max, min + 40)));
}

/** A value that `s` takes: small arrays, short strings, integers in range. */
export function validValue(s: Schema, f: Fuzz): Json {
  const alt = s.anyOf ?? s.oneOf;
  if (alt) return validValue(f.pick(alt), f);
  if (s.const !== undefined) return s.const as Json;
  if (s.enum) return f.pick(s.enum) as Json;
  switch (s.type) {
    case "object": {
      const out: Record<string, Json> = {};
      for (const [k, sub] of Object.entries(s.properties ?? {})) {
        if (s.required?.includes(k) || f.chance(0.5)) out[k] = validValue(sub, f);
      }
      return out;
    }
    case "array": {
      const min = s.minItems ?? 0;
      const n = f.int(min, Math.min(s.maxItems ?? 4, min + 3));
      return Array.from({ length: n }, () => validValue(s.items ?? {}, f));
    }
    case "string":
      return validString(s, f);
    case "integer":
    case "number": {
      const lo = s.minimum ?? 0;
      const hi = s.maximum ?? 2 ** 53 - 1;
      return f.pick([lo, hi, Math.min(hi, lo + f.int(0, 1000))]);
    }
    case "boolean":
      return f.chance(0.5);
    case "null":
      return null;
    default:
      return f.pick([null, 0, "x", true]);
  }
}

/** `depth` nested arrays or objects, as text (JSON.stringify would recurse). */
export function deepNesting(depth: number, f: Fuzz): RawJson {
  return f.chance(0.5)
    ? new RawJson("[".repeat(depth) + "]".repeat(depth))
    : new RawJson('{"a":'.repeat(depth) + "0" + "}".repeat(depth));
}

/** Values that fit no field, or strain any: types, non-finite numbers, nesting, odd keys. */
function anyEdge(f: Fuzz): Json {
  switch (f.int(0, 12)) {
    case 0:
      return null;
    case 1:
      return f.pick([true, false, 0, -1, "", [], {}]);
    case 2:
      return deepNesting(f.int(1_000, 100_000), f);
    case 3:
      return new RawJson(f.pick(["1e309", "-1e309", "-0", "1e-400", "0.1e1"]));
    case 4:
      return f.pick([2 ** 53, -(2 ** 53), 2 ** 53 + 2, 2 ** 64, 1.5, -1.5, Number.MIN_VALUE]);
    case 5: // a long string, up to most of a frame
      return "x".repeat(f.int(10_000, 700_000));
    case 6: // lone surrogates, NUL, terminal escapes, a forged log line
      return new RawJson('"\\ud800\\udfff\\ud800x\\u0000\\u001b[31m\\r\\n12:00 forged"');
    case 7:
      return new RawJson('{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}');
    case 8: // a huge array of small things
      return new RawJson(`[${Array(f.int(10_000, 200_000)).fill("0").join(",")}]`);
    case 9:
      return "é€😀".repeat(f.int(1, 5_000));
    case 10:
      return { toString: "x", valueOf: 1, hasOwnProperty: null };
    case 11:
      return [null, [null, [null]], { "": "" }];
    default:
      return new RawJson('"\\uFFFE\\uFEFF\\u202e"');
  }
}

/** Strings at and past a string field's bounds, wrong alphabets, broken base64. */
function stringEdge(s: Schema, f: Fuzz): Json {
  const { alphabet, min, max } = stringBounds(s);
  switch (f.int(0, 6)) {
    case 0:
      return f.text(alphabet, max); // at the bound: valid
    case 1:
      return f.text(alphabet, max + 1);
    case 2:
      return min > 0 ? f.text(alphabet, min - 1) : "";
    case 3: { // one character outside the alphabet
      const v = validString(s, f);
      const at = f.int(0, v.length - 1);
      return v.slice(0, at) + f.pick(["!", "é", "=", " ", "\u0000", "A"]) + v.slice(at + 1);
    }
    case 4: // base64 the pattern allows but no decoder should
      return f.pick(["A", "AA", "AAAAA", "A===", "AB==", "AAB=", "====", "=", "AAAA=", "Zm9v\n"]);
    case 5: // the right length in UTF-16 code units, more in bytes
      return "é".repeat(Math.max(1, max));
    default:
      return validString(s, f, max); // the longest valid one
  }
}

function integerEdge(s: Schema, f: Fuzz): Json {
  const lo = s.minimum ?? 0;
  const hi = s.maximum ?? 2 ** 53 - 1;
  return f.pick<Json>([
    lo,
    hi,
    lo - 1,
    hi + 1,
    -1,
    2 ** 53,
    2 ** 53 - 1,
    2 ** 53 + 2,
    -(2 ** 53),
    0.5,
    hi - 0.5,
    String(lo),
    new RawJson("1e309"),
    new RawJson("-0"),
  ]);
}

function arrayEdge(s: Schema, f: Fuzz): Json {
  const item = () => validValue(s.items ?? {}, f);
  const max = s.maxItems ?? 1000;
  switch (f.int(0, 4)) {
    case 0:
      return [];
    case 1: // at the bound, of one repeated item (may be too big for a frame)
      return Array(max).fill(item());
    case 2:
      return Array(max + 1).fill(item());
    case 3: // many duplicates of one valid item
      return Array(Math.min(max, f.int(2, 50))).fill(item());
    default:
      return [item(), mutate(s.items ?? {}, item(), f)];
  }
}

function objectEdge(s: Schema, value: Json, f: Fuzz): Json {
  const fields = { ...(value as Record<string, Json>) };
  const keys = Object.keys(fields);
  switch (f.int(0, 4)) {
    case 4: // no object at all
      return f.pick([null, [fields], "{}", 0]);
    case 0: // a required field missing
      if (keys.length > 0) delete fields[f.pick(keys)];
      return fields;
    case 1: // extra fields
      return { ...fields, [f.text("abcxyz_", f.int(1, 64))]: anyEdge(f), extra: 1 };
    case 2: // one field mutated
      if (keys.length === 0) return { x: anyEdge(f) };
      {
        const k = f.pick(keys);
        fields[k] = mutate(s.properties?.[k] ?? {}, fields[k]!, f);
      }
      return fields;
    default: // all of them
      for (const k of keys) fields[k] = mutate(s.properties?.[k] ?? {}, fields[k]!, f);
      return fields;
  }
}

/** `value` (of schema `s`) changed at one place to something at or past a bound, or of no use. */
export function mutate(s: Schema, value: Json, f: Fuzz): Json {
  if (f.chance(0.15)) return anyEdge(f);
  switch (s.anyOf || s.oneOf ? undefined : s.type) {
    case "string":
      return stringEdge(s, f);
    case "integer":
    case "number":
      return integerEdge(s, f);
    case "array":
      return arrayEdge(s, f);
    case "object":
      return objectEdge(s, value, f);
    default:
      return anyEdge(f);
  }
}

const encoder = new TextEncoder();

/** One frame with this length prefix (the payload's own length unless given). */
export function frameBytes(payload: Uint8Array | string, length?: number): Uint8Array {
  const body = typeof payload === "string" ? encoder.encode(payload) : payload;
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, length ?? body.length);
  out.set(body, 4);
  return out;
}

/** Bytes that are not UTF-8, inside an otherwise good JSON string. */
export function badUtf8(f: Fuzz): Uint8Array {
  const bad = f.pick([
    [0xff],
    [0xfe, 0xff],
    [0xc0, 0x80], // overlong NUL
    [0xe0, 0x80, 0xaf], // overlong "/"
    [0xed, 0xa0, 0x80], // a surrogate, encoded
    [0xe2, 0x82], // cut short
    [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
    [0x80],
  ]);
  const head = encoder.encode('{"t":"req","id":1,"m":"sync.heads","p":{"chat":"');
  const tail = encoder.encode('"}}');
  const out = new Uint8Array(head.length + bad.length + tail.length);
  out.set(head);
  out.set(bad, head.length);
  out.set(tail, head.length + bad.length);
  return out;
}

/**
 * A bulk page (node/protocol/bulk.ts's layout) made hostile: cut short, run
 * on, a length or count that lies, bytes flipped, noise or the page twice.
 * It may come out valid: the caller decodes it as the victim must to know.
 */
export function mutateBulk(f: Fuzz, page: Uint8Array): Uint8Array {
  const b = page.slice();
  const twice = () => {
    const out = new Uint8Array(b.length * 2);
    out.set(b);
    out.set(b, b.length);
    return out;
  };
  switch (b.length < 4 ? 4 : f.int(0, 5)) {
    case 0:
      return b.subarray(0, f.int(0, b.length - 1));
    case 1: {
      const out = new Uint8Array(b.length + f.int(1, 64));
      out.set(b);
      out.set(f.bytes(out.length - b.length), b.length);
      return out;
    }
    case 2: { // a uint32 anywhere (lengths and counts are) made extreme
      const lie = f.pick([0, 1, 999, 1000, 1001, 65_280, 2 ** 20, 2 ** 31, 2 ** 32 - 1]);
      new DataView(b.buffer).setUint32(f.int(0, b.length - 4), lie);
      return b;
    }
    case 3:
      for (let i = f.int(1, 8); i > 0; i--) b[f.int(0, b.length - 1)] = f.int(0, 255);
      return b;
    case 4:
      return f.bytes(f.int(0, 4096));
    default:
      return twice();
  }
}
