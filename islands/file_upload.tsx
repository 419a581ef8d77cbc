/// <reference lib="dom" />
/**
 * Attaching a file in the admin: pick one or drop it here; it goes to the
 * node in parts (POST /api/file.upload, each well under the admin's body
 * limit), with a progress bar, and the page shows it once sent.
 */
import { useEffect, useState } from "preact/hooks";
import { callApi } from "./_api.ts";

export interface FileUploadProps {
  chat: string;
  /** Bytes per part. */
  part: number;
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

export function FileUpload(props: FileUploadProps) {
  const [ready, setReady] = useState(false);
  const [file, setFile] = useState<File | null>(null);
  const [sent, setSent] = useState(0);
  const [busy, setBusy] = useState(false);
  const [said, setSaid] = useState("");
  useEffect(() => setReady(true), []);

  const send = async (f: File) => {
    setBusy(true);
    setSaid("");
    let upload: string | undefined;
    try {
      for (let offset = 0;;) {
        const bytes = new Uint8Array(await f.slice(offset, offset + props.part).arrayBuffer());
        const last = offset + bytes.length >= f.size;
        const r = await callApi<{ upload: string; received: number }>("file.upload", {
          chat: props.chat,
          name: f.name,
          ...(upload ? { upload } : {}),
          offset,
          b: toBase64(bytes),
          last,
        });
        upload = r.upload;
        offset = r.received;
        setSent(offset);
        if (last) break;
      }
      setSaid(`Sent ${f.name}.`);
      location.reload();
    } catch (err) {
      setSaid(`Could not send ${f.name}: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  if (!ready) return <p class="muted">Attaching files needs JavaScript; use roj send --file.</p>;
  return (
    <form
      class="file-upload"
      onSubmit={(e) => {
        e.preventDefault();
        if (file && !busy) send(file);
      }}
      onDragOver={(e) => e.preventDefault()}
      onDrop={(e) => {
        e.preventDefault();
        const f = e.dataTransfer?.files[0];
        if (f && !busy) (setFile(f), send(f));
      }}
    >
      <label>
        Attach a file (or drop it here){" "}
        <input
          type="file"
          name="file"
          disabled={busy}
          onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)}
        />
      </label>{" "}
      <button type="submit" disabled={!file || busy}>Send the file</button>
      {busy && file && <progress max={file.size} value={sent} />}
      <span role="status" class="muted">{said}</span>
    </form>
  );
}
