// A mock of src/tauri/api for vi.mock: every command a vi.fn, toAppError the real one.
import { vi } from "vitest";

export async function mockApi(importOriginal: () => Promise<unknown>) {
  const actual = (await importOriginal()) as Record<string, unknown>;
  const mocked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(actual)) {
    mocked[key] = key === "toAppError" ? value : typeof value === "function" ? vi.fn() : value;
  }
  return mocked;
}
