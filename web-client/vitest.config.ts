import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Builds ./cmd/tasksd from this repository, starts it on a free port with
    // an embedded SQLite database, and stops it when the run ends.
    globalSetup: ["test/tasksd.setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
