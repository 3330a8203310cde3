// Subscribes to the shell's event channels: `latch://event` (the core's events) and
// `latch://update` (the update check's state).
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { AppEvent } from "../bindings/AppEvent";
import type { ProtocolEntry } from "../bindings/ProtocolEntry";
import type { UpdateView } from "../bindings/UpdateView";

export const EVENT_NAME = "latch://event";

export function onAppEvent(handler: (event: AppEvent) => void): Promise<UnlistenFn> {
  return listen<AppEvent>(EVENT_NAME, (e) => handler(e.payload));
}

export const UPDATE_EVENT_NAME = "latch://update";

export function onUpdate(handler: (view: UpdateView) => void): Promise<UnlistenFn> {
  return listen<UpdateView>(UPDATE_EVENT_NAME, (e) => handler(e.payload));
}

/** New entries of one server's protocol log, as they are recorded. */
export function onProtocolEntry(server: string, handler: (entry: ProtocolEntry) => void): Promise<UnlistenFn> {
  return onAppEvent((event) => {
    if (event.type === "protocolEntry" && event.server === server) handler(event.entry);
  });
}
