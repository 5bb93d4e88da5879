import type { Metadata } from "next";
import { connection } from "next/server";
import type { ReactNode } from "react";
import { tasksApiUrl } from "@/lib/api-url";
import { currentUser } from "@/lib/session";
import { Providers } from "./providers";
import { SignOutButton } from "./sign-out-button";
import "./globals.css";

export const metadata: Metadata = {
  title: "Tasks",
  description: "A task list on the Tasks API, signed in with Better-Auth",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Rendered per request: the API's URL is read at run time, not baked into
  // the build, and the header shows who is signed in.
  await connection();
  const apiUrl = tasksApiUrl();
  // Switches for developers (such as turning off the browser's own checks,
  // to see the server's): on with TASKS_APP_DEV_TOOLS=1, read at run time
  // like TASKS_API_URL, and in next dev; never shown to users otherwise.
  const devTools = process.env.TASKS_APP_DEV_TOOLS === "1" || process.env.NODE_ENV === "development";
  const user = await currentUser();
  return (
    <html lang="en">
      <body>
        <header className="top">
          <a className="brand" href="/">
            Tasks
          </a>
          {user ? (
            <nav className="who" aria-label="Account">
              <a href="/overview">Overview</a>
              <span className="email" data-testid="current-user" title={user.email}>
                {user.email}
              </span>
              <SignOutButton />
            </nav>
          ) : null}
        </header>
        <main>
          <Providers apiUrl={apiUrl} devTools={devTools}>
            {children}
          </Providers>
        </main>
      </body>
    </html>
  );
}
