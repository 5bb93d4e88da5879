"use client";

import { useSearchParams } from "next/navigation";
import { useState, type FormEvent } from "react";
import { forgetApiToken } from "@/lib/api-token";
import { authClient } from "@/lib/auth-client";

// Only same-site paths, so ?next= cannot send anyone elsewhere.
function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/tasks";
}

/** Better-Auth's email and password sign-up and sign-in, in one form. */
export function AuthForm({ mode }: { mode: "sign-in" | "sign-up" }) {
  const params = useSearchParams();
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get("email") ?? "");
    const password = String(form.get("password") ?? "");
    setBusy(true);
    setError("");
    const { error } =
      mode === "sign-up"
        ? await authClient.signUp.email({ email, password, name: String(form.get("name") ?? "") })
        : await authClient.signIn.email({ email, password });
    if (error) {
      setBusy(false);
      setError(error.message ?? error.statusText ?? "Something went wrong");
      return;
    }
    forgetApiToken();
    // A full navigation, so the server renders the header for the new session.
    window.location.assign(safeNext(params.get("next")));
  }

  return (
    <form className="card auth" onSubmit={(e) => void submit(e)} aria-label={mode === "sign-up" ? "Sign up" : "Sign in"}>
      <h1>{mode === "sign-up" ? "Create an account" : "Sign in"}</h1>
      {mode === "sign-up" ? (
        <label>
          Name
          <input name="name" autoComplete="name" required />
        </label>
      ) : null}
      <label>
        Email
        <input name="email" type="email" autoComplete="email" required />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autoComplete={mode === "sign-up" ? "new-password" : "current-password"}
          minLength={8}
          required
        />
      </label>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="submit" disabled={busy}>
        {mode === "sign-up" ? "Sign up" : "Sign in"}
      </button>
      <p className="muted">
        {mode === "sign-up" ? (
          <>
            Have an account? <a href="/sign-in">Sign in</a>
          </>
        ) : (
          <>
            New here? <a href="/sign-up">Create an account</a>
          </>
        )}
      </p>
    </form>
  );
}
