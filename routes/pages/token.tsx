/** The only page served without a session: paste the token `roj admin` prints. */
import { Layout } from "../layout.tsx";

export function TokenPage(props: { error?: string }) {
  return (
    <Layout title="Sign in" status={null} error={props.error}>
      <h1>Paste your token</h1>
      <p>
        This admin belongs to the person running the node. <code>roj admin</code> prints a line{" "}
        <code>admin: http://…/?token=…</code> (as <code>roj run</code>{" "}
        did when it started): open that address, or paste the token (or the whole address) here.
      </p>
      <form method="post" action="/login">
        <label for="token">Token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          maxLength={2048}
        />
        <p>
          <button type="submit">Sign in</button>
        </p>
      </form>
    </Layout>
  );
}
