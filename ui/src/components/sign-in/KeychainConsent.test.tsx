import { act, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { ServerView } from "../../bindings/ServerView";
import type { TokenStoreView } from "../../bindings/TokenStoreView";
import { actions } from "../../state/actions";
import { initialState, store } from "../../state/store";
import * as api from "../../tauri/api";
import { KeychainBanner, KeychainConsentDialog } from "./KeychainConsent";

vi.mock("../../tauri/api", async (orig) => (await import("../../test/apiMock")).mockApi(orig));

const noKeychain: TokenStoreView = { kind: "keychain", warning: "no keychain is running (Secret Service not found); …", needsConsent: true };
const inFile: TokenStoreView = { kind: "file", warning: "no keychain is running; tokens are kept in ~/.config/latch/secrets.json, readable only by you", needsConsent: false };

const demo: ServerView = {
  name: "demo",
  target: "http://127.0.0.1:1/mcp",
  host: "127.0.0.1:1",
  kind: "remote",
  transport: "auto",
  state: { state: "connected", transport: "streamable-http" },
  auth: { status: "signedIn", expiresAt: null, scopes: [], issuer: null, account: "default", refreshable: true },
  signIn: "oauth",
  credentials: null,
  toolCount: 7,
  serverInfo: null,
  demo: true,
  accounts: [],
};

const setTokenStore = (tokenStore: TokenStoreView | null) => act(() => store.update((s) => ({ ...s, tokenStore })));

const ui = () =>
  render(
    <>
      <KeychainBanner />
      <KeychainConsentDialog />
    </>,
  );

describe("no keychain: the person chooses where sign-ins are kept", () => {
  beforeEach(() => {
    store.update(() => initialState());
    vi.mocked(api.keepSignInsInFile).mockReset();
    vi.mocked(api.signIn).mockReset();
    vi.mocked(api.settings).mockReset();
  });

  it("shows no banner while the store is unknown or can keep sign-ins", () => {
    ui();
    expect(screen.queryByTestId("keychain-banner")).toBeNull();
    setTokenStore({ kind: "keychain", warning: null, needsConsent: false });
    expect(screen.queryByTestId("keychain-banner")).toBeNull();
    setTokenStore(inFile);
    expect(screen.queryByTestId("keychain-banner")).toBeNull();
  });

  it("loads the store at start and shows the banner in plain words when nothing can be kept", async () => {
    vi.mocked(api.settings).mockResolvedValue({ tokenStore: noKeychain, configPath: "/x/servers.json", version: "0.1.0" });
    ui();
    await act(() => actions.loadTokenStore());
    const banner = screen.getByTestId("keychain-banner");
    expect(banner).toHaveTextContent("No keychain is running on this computer, so Latch can't keep your sign-ins safely.");
    expect(banner).toHaveTextContent("start your keychain (GNOME Keyring / KWallet) and reopen Latch");
    expect(banner).not.toHaveTextContent("LATCH_TOKEN_STORE");
    expect(screen.getByTestId("keep-in-file")).toHaveTextContent("Keep sign-ins in a file only you can read");
  });

  it("the button records the choice and the banner goes away", async () => {
    const user = userEvent.setup();
    vi.mocked(api.keepSignInsInFile).mockResolvedValue(inFile);
    setTokenStore(noKeychain);
    ui();
    await user.click(screen.getByTestId("keep-in-file"));
    expect(api.keepSignInsInFile).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(screen.queryByTestId("keychain-banner")).toBeNull());
    expect(store.get().tokenStore).toEqual(inFile);
    expect(api.signIn).not.toHaveBeenCalled();
  });

  it("keeps the banner and says why when the file can't be made", async () => {
    const user = userEvent.setup();
    vi.mocked(api.keepSignInsInFile).mockRejectedValue({ kind: "secrets", message: "could not write /x/secrets.json: disk full" });
    setTokenStore(noKeychain);
    ui();
    await user.click(screen.getByTestId("keep-in-file"));
    await waitFor(() => expect(store.get().notices.map((n) => n.text)).toContain("could not write /x/secrets.json: disk full"));
    expect(screen.getByTestId("keychain-banner")).toBeInTheDocument();
    expect(screen.getByTestId("keep-in-file")).toBeEnabled();
  });

  it("a sign-in refused for want of a keychain offers the same choice, then goes on", async () => {
    const user = userEvent.setup();
    vi.mocked(api.signIn).mockRejectedValueOnce({ kind: "keychainUnavailable", message: "No keychain is running on this computer, …" });
    vi.mocked(api.signIn).mockResolvedValueOnce(demo);
    vi.mocked(api.keepSignInsInFile).mockResolvedValue(inFile);
    setTokenStore({ ...noKeychain });
    ui();

    await act(() => actions.signIn("demo"));
    const dialog = screen.getByTestId("keychain-consent-dialog");
    expect(dialog).toHaveTextContent("No keychain is running on this computer");
    expect(store.get().notices.filter((n) => n.kind === "error")).toEqual([]);

    await user.click(screen.getByTestId("keep-in-file-and-sign-in"));
    expect(api.keepSignInsInFile).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(api.signIn).toHaveBeenCalledTimes(2));
    expect(api.signIn).toHaveBeenLastCalledWith("demo", null, null);
    await waitFor(() => expect(screen.queryByTestId("keychain-consent-dialog")).toBeNull());
    expect(screen.queryByTestId("keychain-banner")).toBeNull();
    await waitFor(() => {
      const servers = store.get().servers;
      expect("data" in servers && servers.data?.[0]?.auth.status).toBe("signedIn");
    });
  });

  it("Not now closes the question and signs nobody in", async () => {
    const user = userEvent.setup();
    vi.mocked(api.signIn).mockRejectedValue({ kind: "keychainUnavailable", message: "No keychain…" });
    setTokenStore(noKeychain);
    ui();
    await act(() => actions.signIn("demo", "device", "work"));
    expect(store.get().consentFor).toEqual({ server: "demo", flow: "device", account: "work" });
    await user.click(screen.getByTestId("keychain-consent-cancel"));
    expect(screen.queryByTestId("keychain-consent-dialog")).toBeNull();
    expect(api.keepSignInsInFile).not.toHaveBeenCalled();
    expect(screen.getByTestId("keychain-banner")).toBeInTheDocument();
  });
});
