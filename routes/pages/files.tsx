/**
 * A chat's files in the admin: the list (name, size, from, state) and
 * downloads. A download streams the file a range at a time through the API
 * (`file.read`), always as an attachment of type application/octet-stream
 * with nosniff, so no content a peer sent is ever rendered by the admin.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { base64 } from "@scure/base";
import { type ChatView, type FileView, MAX_FILE_READ, MAX_UPLOAD_PART } from "../../node/mod.ts";
import { apiError, callNode } from "../api.ts";
import type { AdminContext } from "../context.ts";
import { seg } from "../context.ts";
import { html, Island, Layout } from "../layout.tsx";
import { FileTable } from "../../islands/file_table.tsx";
import { FileUpload } from "../../islands/file_upload.tsx";

/** The image type the first bytes say (JPEG, PNG, GIF, WebP), else null. */
function imageType(b: Uint8Array): string | null {
  const at = (i: number, ...xs: number[]) => xs.every((x, k) => b[i + k] === x);
  if (at(0, 0xff, 0xd8, 0xff)) return "image/jpeg";
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "image/png";
  if (at(0, 0x47, 0x49, 0x46, 0x38)) return "image/gif";
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return "image/webp";
  return null;
}

/** RFC 6266 / 5987: an ASCII fallback and the UTF-8 name. */
function disposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export function filePages(ctx: AdminContext): Hono {
  const app = new Hono();

  app.get("/chats/:name/files", async (c) => {
    const me = await ctx.api.call("status", {});
    const name = c.req.param("name");
    let files: FileView[];
    try {
      files = await callNode(ctx.api, "files", { chat: name }) as FileView[];
    } catch (err) {
      const { status, body } = apiError(err, ctx.log, "files");
      return html(
        c,
        <Layout title="Files" status={me} section="chats" error={body.error.message}>
          <h1>No files here</h1>
          <p>
            <a href={`/chats/${seg(name)}`}>Back to the chat</a>
          </p>
        </Layout>,
        status,
      );
    }
    const group = (await callNode(ctx.api, "chats", {}) as ChatView[])
      .some((x) => x.name === name && x.kind === "group");
    return html(
      c,
      <Layout title={`Files: ${name}`} status={me} section="chats">
        <h1>{group ? `Files in ${name}` : `Files with ${name}`}</h1>
        <Island component={FileTable} props={{ chat: name, files }} />
        <Island component={FileUpload} props={{ chat: name, part: MAX_UPLOAD_PART }} />
        <p>
          <a href={`/chats/${seg(name)}`}>Back to the chat</a>
        </p>
      </Layout>,
    );
  });

  /** Streams a complete file a range at a time; `headers` sees the first range (name, size, bytes). */
  const stream = async (
    c: Context,
    headers: (
      first: { name: string; size: number; bytes: Uint8Array },
    ) => Record<string, string> | null,
  ): Promise<Response> => {
    const chat = c.req.param("name")!;
    const id = c.req.param("id")!;
    const read = async (offset: number) => {
      const r = await callNode(ctx.api, "file.read", {
        chat,
        id,
        offset,
        length: MAX_FILE_READ,
      }) as { b: string; size: number; name: string };
      return { ...r, bytes: r.b === "" ? new Uint8Array(0) : base64.decode(r.b) };
    };
    let first: Awaited<ReturnType<typeof read>>;
    try {
      first = await read(0);
    } catch (err) {
      const { status, body } = apiError(err, ctx.log, "file.read");
      return c.text(`${body.error.message}\n`, status);
    }
    const h = headers(first);
    if (!h) return c.text("not an image this admin shows\n", 415);
    let offset = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const part = offset === 0 ? first : await read(offset);
        if (part.bytes.length > 0) controller.enqueue(part.bytes);
        offset += part.bytes.length;
        if (part.bytes.length === 0 || offset >= first.size) controller.close();
      },
    });
    return new Response(body, {
      headers: {
        ...h,
        "Content-Length": String(first.size),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
      },
    });
  };

  // A download: always an attachment of no particular type.
  app.get("/chats/:name/files/:id", (c) =>
    stream(c, (f) => ({
      "Content-Type": "application/octet-stream",
      "Content-Disposition": disposition(f.name),
    })));

  // Full size in the browser, for an image whose first bytes say so (never the sender's word).
  app.get("/chats/:name/files/:id/view", (c) =>
    stream(c, (f) => {
      const type = imageType(f.bytes);
      return type ? { "Content-Type": type } : null;
    }));

  // The sender's thumbnail, carried in its signed entry; served only if it is a JPEG.
  app.get("/chats/:name/files/:id/thumb", async (c) => {
    let bytes: Uint8Array;
    try {
      const t = await callNode(ctx.api, "file.thumb", {
        chat: c.req.param("name"),
        id: c.req.param("id"),
      }) as { b: string };
      bytes = base64.decode(t.b);
    } catch (err) {
      const { status, body } = apiError(err, ctx.log, "file.thumb");
      return c.text(`${body.error.message}\n`, status);
    }
    if (imageType(bytes) !== "image/jpeg") return c.text("not a JPEG\n", 415);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      "Content-Type": "image/jpeg",
      "X-Content-Type-Options": "nosniff",
      "Cache-Control": "no-store",
    });
  });

  return app;
}
