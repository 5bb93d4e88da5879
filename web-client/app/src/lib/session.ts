import "server-only";

import { PHASE_PRODUCTION_BUILD } from "next/constants";
import { headers } from "next/headers";
import { getAuth } from "./auth";

/** The signed-in user of the current request, or null. */
export async function currentUser(): Promise<{ id: string; name: string; email: string } | null> {
  // `next build` prerenders the not-found page through the root layout:
  // there is no request then, and no database to ask.
  if (process.env.NEXT_PHASE === PHASE_PRODUCTION_BUILD) return null;
  const session = await getAuth().api.getSession({ headers: await headers() });
  return session ? session.user : null;
}
