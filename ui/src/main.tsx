import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { actions } from "./state/actions";
import "./styles.css";

// Ask the shell for the servers before the first render, so that the first frame already shows
// them: the first frame is slow to lay out and paint (about 100 ms under WebKitGTK without a
// GPU) and the servers would otherwise wait for the next one. Wait at most 300 ms. The App then
// subscribes to events and lists the servers again (`actions.start`), so nothing that changes
// in between is missed.
const early = actions.loadServers();
void Promise.race([early, new Promise((resolve) => setTimeout(resolve, 300))]).then(() =>
  createRoot(document.getElementById("root")!).render(
    <StrictMode>
      <App />
    </StrictMode>,
  ),
);
