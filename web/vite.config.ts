import { defineConfig } from "vite";

// JSX through esbuild's automatic runtime: no React plugin needed for a production build.
export default defineConfig({
  esbuild: { jsx: "automatic" },
  build: { outDir: "dist", assetsDir: "assets", sourcemap: false, target: "es2020" },
  test: {
    environment: "jsdom",
    include: ["tests/**/*.test.{ts,tsx}"],
    testTimeout: 20000,
    hookTimeout: 30000,
    pool: "forks",
    fileParallelism: false,
  },
} as never);
