// The system file dialogs (tauri-plugin-dialog): the Roots folder picker and the save dialogs of
// the resource viewer and the protocol log. The window's capability allows only these two
// (dialog:allow-open, dialog:allow-save). Both resolve to null when the person cancels, so a
// cancelled dialog changes nothing. Re-exported by api.ts, so tests mock them with the rest.
import { open, save } from "@tauri-apps/plugin-dialog";

/** Asks for one folder; its full path, or null when cancelled. */
export async function chooseFolder(title = "Choose a folder"): Promise<string | null> {
  const picked = await open({ directory: true, multiple: false, title });
  return typeof picked === "string" ? picked : null;
}

/**
 * Asks where to save a file, suggesting `defaultName` (a file name, or a full path to start in
 * its folder); the chosen path, or null when cancelled.
 */
export async function chooseSavePath(defaultName: string, title = "Save as"): Promise<string | null> {
  const extension = /\.([A-Za-z0-9]{1,8})$/.exec(defaultName)?.[1];
  const filters = extension === "json" ? [{ name: "JSON", extensions: ["json"] }] : undefined;
  const picked = await save({ defaultPath: defaultName, title, filters, canCreateDirectories: true });
  return picked || null;
}
