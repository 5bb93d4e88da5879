import { resolve } from "node:path";
import type { NextConfig } from "next";

// npm links the client package (`file:..`) to ../, whose own node_modules
// holds its own copies of @bufbuild/protobuf and @connectrpc/connect. Bare
// imports are looked up here first, so the app bundles one copy of each:
// the ones this package.json pins.
const appModules = resolve(process.cwd(), "node_modules");

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The project root for file tracing is web-client/, which holds the
  // linked client package.
  outputFileTracingRoot: resolve(process.cwd(), ".."),
  webpack: (webpackConfig: { resolve: { modules?: string[] } }) => {
    webpackConfig.resolve.modules = [appModules, ...(webpackConfig.resolve.modules ?? ["node_modules"])];
    return webpackConfig;
  },
};

export default config;
