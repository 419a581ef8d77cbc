/** Issuing, adding from and redeeming invites; who may log in. The only import surface of `node/invites/`. */
export { InviteFlow, type InviteFlowDeps, type Sibling } from "./invite_flow.ts";
