// The files an MCP App offers (`ui/download-file`), saved only where the person chooses: each
// goes through the system save dialog first; a cancelled dialog writes nothing and stops the
// rest. Inline files are written as sent; a link is read from the app's server through Latch.
import * as api from "../../tauri/api";
import type { AppDownload } from "./bridge";

/** Save `files` from the app of `tool` on `server`; true when every one was saved. `note` says what happened. */
export async function saveDownloads(server: string, tool: string, files: AppDownload[], note: (text: string) => void): Promise<boolean> {
  for (const file of files) {
    let path: string | null;
    try {
      path = await api.chooseSavePath(file.name, `Save ${file.name} from the app of ${tool}`);
    } catch (e) {
      note(`The save dialog did not open: ${api.toAppError(e).message}`);
      return false;
    }
    if (!path) return false;
    try {
      if (file.kind === "embedded") await api.saveAppFile(file.file, path);
      else await api.saveResource(server, file.uri, path);
    } catch (e) {
      note(`Could not save ${file.name}: ${api.toAppError(e).message}`);
      return false;
    }
    note(`Saved ${file.name} from the app to ${path}.`);
  }
  return true;
}
