"use client";

import { forgetApiToken } from "@/lib/api-token";
import { authClient } from "@/lib/auth-client";
import { stopLiveUpdates } from "@/lib/live-updates";

export function SignOutButton() {
  async function signOut() {
    // Nothing of this user's may outlive the session. The live updates end
    // first, so they cannot reconnect without one; then a full navigation
    // drops the rest (the API token, cached pages of tasks, a query on its
    // way). Clearing the query cache in place instead would refetch the
    // lists still on screen, now without a token, and their Unauthenticated
    // would send the page to sign in with ?next= back to the tasks.
    stopLiveUpdates();
    await authClient.signOut();
    forgetApiToken();
    window.location.assign("/sign-in");
  }
  return (
    <button type="button" className="link" onClick={() => void signOut()}>
      Sign out
    </button>
  );
}
