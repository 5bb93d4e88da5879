import { createAuthClient } from "better-auth/react";
import { jwtClient } from "better-auth/client/plugins";

// Better-Auth in the browser. It talks to this app's own /api/auth routes
// (same origin, session cookie); jwtClient adds authClient.token(), the
// signed-in user's API token.
export const authClient = createAuthClient({ plugins: [jwtClient()] });
