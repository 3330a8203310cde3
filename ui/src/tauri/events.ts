// Subscribes to the shell's one event channel, `latch://event`.
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { AppEvent } from "../bindings/AppEvent";

export const EVENT_NAME = "latch://event";

export function onAppEvent(handler: (event: AppEvent) => void): Promise<UnlistenFn> {
  return listen<AppEvent>(EVENT_NAME, (e) => handler(e.payload));
}
