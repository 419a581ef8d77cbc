/** The page frame every page shares, islands, and turning a page into a response. */
import type { ComponentChildren, ComponentType, VNode } from "preact";
import { render } from "preact-render-to-string";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { StatusView } from "../node/mod.ts";
import { islands } from "../islands/registry.ts";
import { Notifier } from "../islands/notifier.tsx";
import { SearchBox } from "./search_box.tsx";

export type Section =
  | "chats"
  | "anchor"
  | "contacts"
  | "hive"
  | "identity"
  | "settings"
  | "devices";

const SECTIONS: { key: Section; href: string; label: string; passive: boolean | null }[] = [
  { key: "chats", href: "/chats", label: "Chats", passive: false },
  { key: "anchor", href: "/anchor", label: "Anchor", passive: true },
  { key: "contacts", href: "/contacts", label: "Contacts", passive: null },
  { key: "hive", href: "/hive", label: "Hive", passive: null },
  { key: "identity", href: "/identity", label: "Identity", passive: null },
  { key: "settings", href: "/settings", label: "Settings", passive: false },
  { key: "devices", href: "/devices", label: "Devices", passive: false },
];

export interface LayoutProps {
  title: string;
  /** Null for pages shown before signing in: no navigation, no node facts. */
  status: StatusView | null;
  section?: Section;
  notice?: string | undefined;
  error?: string | undefined;
  /** A messenger page: the window's height, panes that scroll on their own. @default false */
  app?: boolean;
  children?: ComponentChildren;
}

export function Layout(props: LayoutProps) {
  const { status } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <meta name="referrer" content="same-origin" />
        <title>{`${props.title} · Roj${status ? ` · ${status.name}` : ""}`}</title>
        <link rel="stylesheet" href="/static/style.css" />
        <link rel="stylesheet" href="/static/emoji.css" />
        <link rel="icon" href="/static/icon.svg" type="image/svg+xml" />
        {status && <script type="module" src="/static/islands.js" />}
      </head>
      <body class={props.app ? "app" : undefined}>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <div class="inner">
            <p class="who" title={status ? `${status.name} · ${status.fingerprint}` : undefined}>
              Roj{status && (
                <>
                  {" · "}
                  {status.name}
                  {status.passive ? " (anchor)" : ""}{" "}
                  <small class="mono">{status.fingerprint}</small>
                </>
              )}
            </p>
            {status && (
              <nav aria-label="Sections">
                <ul>
                  {SECTIONS.filter((s) => s.passive === null || s.passive === !!status.passive)
                    .map((s) => (
                      <li key={s.key}>
                        <a
                          href={s.href}
                          aria-current={s.key === props.section ? "page" : undefined}
                        >
                          {s.label}
                        </a>
                      </li>
                    ))}
                </ul>
              </nav>
            )}
            {status && !status.passive && (
              <>
                <SearchBox />
                <Island component={Notifier} props={{ ask: false }} />
              </>
            )}
          </div>
        </header>
        <main id="main" tabIndex={-1}>
          {status?.identity?.conflict && (
            <p class="error" role="alert" data-identity-conflict={status.identity.conflict.role}>
              {status.identity.conflict.message}
            </p>
          )}
          {status?.identity?.redo && status.identity.redo.length > 0 && (
            <div class="notice" role="status" data-identity-redo>
              <p>Group changes this node made on the other copy, to do again by hand:</p>
              <ul>{status.identity.redo.map((line, i) => <li key={i}>{line}</li>)}</ul>
            </div>
          )}
          {props.notice && <p class="notice" role="status">{props.notice}</p>}
          {props.error && <p class="error" role="alert">{props.error}</p>}
          {props.children}
        </main>
      </body>
    </html>
  );
}

/**
 * Renders `component` on the server inside a marker the browser bundle hydrates.
 * Props travel as JSON in an attribute, escaped like every attribute.
 */
export function Island<P extends object>(
  props: { component: ComponentType<P>; props: P },
): VNode {
  const name = Object.keys(islands).find((k) => islands[k] === props.component);
  if (!name) throw new TypeError("not a registered island: add it to islands/registry.ts");
  const C = props.component as ComponentType<P>;
  return (
    <div data-island={name} data-props={JSON.stringify(props.props)}>
      <C {...props.props} />
    </div>
  );
}

/** An HTML response for a page. */
export function html(c: Context, page: VNode, status: ContentfulStatusCode = 200): Response {
  return c.html(`<!DOCTYPE html>${render(page)}`, status);
}
