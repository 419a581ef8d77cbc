/// <reference lib="dom" />
/**
 * An image file's thumbnail that opens the full size in a lightbox: a modal
 * <dialog> over the page (the browser keeps focus inside it; it goes back to
 * the thumbnail on close), closed by Escape, by a click anywhere on it or
 * by its Close button. Both images come from blob: URLs (_blob.ts), the full
 * one fetched only while the lightbox is open and revoked when it closes.
 * Without script the thumbnail is a plain link to the full-size image.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { FileView } from "../node/api/mod.ts";
import { useBlobUrl } from "./_blob.ts";

/** The full-size image of `path` over the page until `onClose`. */
export function Lightbox({ path, alt, id, onClose }: {
  path: string;
  alt: string;
  /** The file's id, as data-preview (for tests and styles). */
  id: string;
  onClose(): void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const back = useRef<HTMLElement | null>(null);
  const full = useBlobUrl(path);
  useEffect(() => {
    const d = ref.current;
    back.current = document.activeElement as HTMLElement | null;
    if (d && !d.open) d.showModal();
    return () => d?.open && d.close();
  }, []);
  // Focus back where it was (the thumbnail) before the dialog leaves the page: close() alone
  // would give it back, but not once the dialog is gone.
  const close = () => {
    if (ref.current?.open) ref.current.close();
    back.current?.focus();
    onClose();
  };
  return (
    <dialog
      ref={ref}
      class="lightbox"
      data-preview={id}
      aria-label={alt}
      onClick={close}
      onKeyDown={(e) => {
        // Ours, not the page's: a chat's Escape would leave the chat.
        if (e.key !== "Escape") return;
        e.preventDefault();
        e.stopPropagation();
        close();
      }}
      onCancel={(e) => {
        e.preventDefault();
        close();
      }}
    >
      {full ? <img src={full} alt={alt} /> : <p class="muted">Loading {alt}…</p>}
      {/* Its click (or Enter) reaches the dialog's, like any click on it. */}
      <button type="button" class="close">Close</button>
    </dialog>
  );
}

/**
 * `f`'s thumbnail from the sender (only when it has one), a link to the full
 * size that opens the lightbox instead once the file is complete.
 */
export function ImageThumb({ chat, f }: { chat: string; f: FileView }) {
  const base = `/chats/${encodeURIComponent(chat)}/files/${f.id}`;
  const [open, setOpen] = useState(false);
  const thumb = useBlobUrl(`${base}/thumb`);
  return (
    <>
      <a
        href={`${base}/view`}
        target="_blank"
        class="thumb-link"
        onClick={(e) => {
          if (f.state !== "complete") return;
          e.preventDefault();
          setOpen(true);
        }}
      >
        {thumb ? <img class="thumb" src={thumb} alt={`thumbnail of ${f.name}`} /> : "view"}
      </a>
      {open && (
        <Lightbox
          path={`${base}/view`}
          alt={f.name}
          id={f.id}
          onClose={() => setOpen(false)}
        />
      )}
    </>
  );
}
