// Where a save dialog starts: the Downloads folder of the home the config file lives in (the UI
// has no file-system or path access of its own, so the home comes from the config's path).
// When the home cannot be told from it, the bare name (the dialog picks its own folder).

/** `<home>/Downloads/<name>` for the home `configPath` is under; `name` alone when unknown. */
export function inDownloads(name: string, configPath: string | null | undefined): string {
  const home = configPath ? /^(\/home\/[^/]+|\/Users\/[^/]+|\/root|[A-Za-z]:\\Users\\[^\\]+)/.exec(configPath)?.[1] : undefined;
  if (!home) return name;
  const sep = home.includes("\\") ? "\\" : "/";
  return `${home}${sep}Downloads${sep}${name}`;
}
