/// <reference lib="dom" />
/**
 * A chat's files in the admin, kept live: progress as chunks come or go
 * (node "file" events), and the list fetched again when a file is done,
 * fails, or a new one appears.
 */
import { useEffect, useState } from "preact/hooks";
import type { FileView } from "../node/api/mod.ts";
import { callApi } from "./_api.ts";
import { onEvents } from "./_events.ts";
import { formatTime, isoTime } from "./_format.ts";
import { ImageThumb } from "./_lightbox.tsx";

export interface FileTableProps {
  chat: string;
  files: FileView[];
}

const seg = (s: string) => encodeURIComponent(s);

function size(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) (v /= 1000, i++);
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** "complete", "40%", "failed: why". */
function stateText(f: FileView): string {
  if (f.state === "complete") return "complete";
  const pct = f.total > 0 ? Math.floor((100 * f.done) / f.total) : 0;
  if (f.state === "fetching") return `${pct}%${f.reason ? ` (${f.reason})` : ""}`;
  return `${f.state}: ${f.reason ?? ""}`;
}

export function FileTable(props: FileTableProps) {
  const [files, setFiles] = useState(props.files);
  const name = props.chat;
  const refetchNow = () =>
    callApi<FileView[]>("files", { chat: name }).then(setFiles).catch(() => {});
  useEffect(() => {
    const refetch = () =>
      callApi<FileView[]>("files", { chat: name }).then(setFiles).catch(() => {});
    return onEvents({
      event: (e) => {
        if (e.type !== "file" || e.chat !== name) return;
        if (e.op === "progress") {
          setFiles((fs) => {
            if (!fs.some((f) => f.id === e.id)) refetch();
            return fs.map((f) =>
              f.id === e.id && f.state === "fetching" ? { ...f, done: e.done, active: true } : f
            );
          });
        } else if (e.op !== "bad-chunk") refetch();
      },
      resync: refetch,
    });
  }, [name]);
  return (
    <>
      {files.length === 0
        ? (
          <p class="muted">
            No files yet. Attach one with the form below (or roj send {name} --file PATH).
          </p>
        )
        : (
          <table>
            <thead>
              <tr>
                <th>name</th>
                <th>size</th>
                <th>from</th>
                <th>state</th>
                <th>when</th>
              </tr>
            </thead>
            <tbody>
              {files.map((f) => (
                <tr key={f.id} data-file={f.id}>
                  <td>
                    {f.thumb && <ImageThumb chat={name} f={f} />}
                    {f.state === "complete"
                      ? (
                        <a href={`/chats/${seg(name)}/files/${f.id}`} download={f.name}>
                          {f.name}
                        </a>
                      )
                      : f.name}
                    {f.caption && <div class="muted">{f.caption}</div>}
                  </td>
                  <td>{size(f.size)}</td>
                  <td>{f.from}</td>
                  <td>
                    {(f.state === "fetching" || (f.mine && f.state === "complete")) && (
                      <button
                        type="button"
                        class="secondary"
                        {...(f.mine
                          ? { title: "Withdraw it: who has not fetched it yet no longer can" }
                          : {})}
                        onClick={() =>
                          callApi("file.cancel", { chat: name, id: f.id }).then(
                            refetchNow,
                            () => {},
                          )}
                      >
                        {f.mine ? "Stop offering" : "Cancel"}
                      </button>
                    )} {f.state === "failed" && (
                      <button
                        type="button"
                        class="secondary"
                        onClick={() =>
                          callApi("file.retry", { chat: name, id: f.id }).then(
                            refetchNow,
                            () => {},
                          )}
                      >
                        {f.mine ? "Send again" : "Retry"}
                      </button>
                    )}{" "}
                    {f.state === "fetching" && (
                      <progress max={f.total} value={f.done}>{stateText(f)}</progress>
                    )} {stateText(f)}
                  </td>
                  <td>
                    <time datetime={isoTime(f.ts)}>{formatTime(f.ts)}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
    </>
  );
}
