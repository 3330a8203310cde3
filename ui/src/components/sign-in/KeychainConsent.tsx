// No keychain runs on this computer, so Latch keeps no sign-in until the person says where: a
// banner at the top of the app offers a file only they can read (or starting the keychain),
// and a sign-in tried before that offers the same choice instead of an error.
import { useState } from "react";
import { actions } from "../../state/actions";
import { useStore } from "../../state/store";
import { Modal } from "../shared/Modal";

export const NO_KEYCHAIN = "No keychain is running on this computer, so Latch can't keep your sign-ins safely.";
export const START_KEYCHAIN = "start your keychain (GNOME Keyring / KWallet) and reopen Latch.";

/** The choice itself: keep sign-ins in a file only the person can read (remembered for good). */
export function KeepInFileButton({ testId = "keep-in-file" }: { testId?: string }) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      className="btn btn-primary"
      disabled={busy}
      data-testid={testId}
      onClick={async () => {
        setBusy(true);
        await actions.keepSignInsInFile();
        setBusy(false);
      }}
    >
      Keep sign-ins in a file only you can read
    </button>
  );
}

/** At the top of the app while sign-ins can't be kept. */
export function KeychainBanner() {
  const needsConsent = useStore((s) => s.tokenStore?.needsConsent ?? false);
  if (!needsConsent) return null;
  return (
    <div className="keychain-banner" role="alert" data-testid="keychain-banner">
      <p className="keychain-banner-text">
        <strong>{NO_KEYCHAIN}</strong>
      </p>
      <div className="row">
        <KeepInFileButton />
        <span>— or {START_KEYCHAIN}</span>
      </div>
    </div>
  );
}

/** A sign-in was refused because sign-ins can't be kept yet: the same choice, then it goes on. */
export function KeychainConsentDialog() {
  const waiting = useStore((s) => s.consentFor);
  if (!waiting) return null;
  return (
    <Modal title={`Before you sign in to ${waiting.server}`} onClose={() => actions.dismissConsent()} size="small" testId="keychain-consent-dialog">
      <div className="stack">
        <p>{NO_KEYCHAIN}</p>
        <p>Latch can keep them in a file that only you can read, then sign you in. Or {START_KEYCHAIN}</p>
        <div className="row">
          <KeepInFileButton testId="keep-in-file-and-sign-in" />
          <button type="button" className="btn btn-secondary" onClick={() => actions.dismissConsent()} data-testid="keychain-consent-cancel">
            Not now
          </button>
        </div>
      </div>
    </Modal>
  );
}
