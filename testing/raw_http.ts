/** HTTP/1.1 by hand, for tests that send headers fetch will not (a foreign Host). */

/** A raw answer: the status, the header block as sent, the body as text. */
export interface RawAnswer {
  readonly status: number;
  readonly head: string;
  readonly body: string;
}

/**
 * Sends one request to `origin` (http://host:port) with exactly the `head`
 * lines given (request line first), a Content-Length and `Connection: close`,
 * and reads the answer to the end.
 */
export async function rawHttp(origin: string, head: string[], body = ""): Promise<RawAnswer> {
  const u = new URL(origin);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  const bytes = new TextEncoder().encode(body);
  const text = [...head, `Content-Length: ${bytes.length}`, "Connection: close", "", ""].join(
    "\r\n",
  );
  await conn.write(new TextEncoder().encode(text));
  if (bytes.length) await conn.write(bytes);
  let out = "";
  const buf = new Uint8Array(64 * 1024);
  const dec = new TextDecoder();
  for (;;) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) break;
    out += dec.decode(buf.subarray(0, n), { stream: true });
  }
  conn.close();
  const [h = "", ...rest] = out.split("\r\n\r\n");
  return { status: Number(/^HTTP\/1\.1 (\d+)/.exec(h)?.[1]), head: h, body: rest.join("\r\n\r\n") };
}
