// The live updates running in this browser tab, so that signing out can end
// them before the session goes: a watch must not outlive its user, nor
// reconnect with no token and send the page to sign in.

const running = new Set<AbortController>();

/** A controller for one live update, aborted by its owner or by stopLiveUpdates. */
export function startLiveUpdate(): AbortController {
  const controller = new AbortController();
  running.add(controller);
  controller.signal.addEventListener("abort", () => running.delete(controller), { once: true });
  return controller;
}

/** Ends every live update of this tab (on sign-out). */
export function stopLiveUpdates(): void {
  for (const controller of [...running]) controller.abort();
}
