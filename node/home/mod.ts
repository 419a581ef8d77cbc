export { type DataPaths, dataPaths, resolveDataDir } from "./data_dir.ts";
export {
  type AskPassphrase,
  checkName,
  type InitOptions,
  initProfile,
  openProfile,
  type Profile,
} from "./profile.ts";
export { type ModeChange, tightenedNotice } from "../store/mod.ts";
