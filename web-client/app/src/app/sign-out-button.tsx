"use client";

import { useRouter } from "next/navigation";
import { forgetApiToken } from "@/lib/api-token";
import { authClient } from "@/lib/auth-client";
import { getQueryClient } from "./providers";

export function SignOutButton() {
  const router = useRouter();
  async function signOut() {
    await authClient.signOut();
    // Nothing of this user's may outlive the session: not the API token,
    // not a cached page of tasks.
    forgetApiToken();
    getQueryClient().clear();
    router.push("/sign-in");
    router.refresh();
  }
  return (
    <button type="button" className="link" onClick={() => void signOut()}>
      Sign out
    </button>
  );
}
