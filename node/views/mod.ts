/** Pure views of the node's state for the admin and the CLI. The only import surface of `node/views/`. */
export {
  type ChatRef,
  contactView,
  groupView,
  memberNamer,
  messageView,
  peerView,
  sessionPath,
  type Viewer,
} from "./views.ts";
