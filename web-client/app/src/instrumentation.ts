// Next.js runs register() once when a server process starts, before it serves
// requests: the place to bring Better-Auth's tables up to date.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === "nodejs" && process.env.AUTH_MIGRATE !== "off") {
    const { migrateAuthDatabase } = await import("./lib/auth");
    await migrateAuthDatabase();
  }
}
