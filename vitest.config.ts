import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Real databases and child processes: keep parallelism modest on a 2-core machine.
    maxWorkers: 2,
    // Fails a test file that leaves a Database open or a child process running.
    setupFiles: ["packages/updraft/test/setup/leaks.ts"],
    // After-hooks in reverse order of registration: the leak check, registered first, runs after
    // each file's own clean-up.
    sequence: { hooks: "stack" },
    typecheck: {
      enabled: true,
      include: ["packages/*/src/**/*.test-d.ts"],
      tsconfig: "packages/updraft/tsconfig.json",
    },
  },
});
