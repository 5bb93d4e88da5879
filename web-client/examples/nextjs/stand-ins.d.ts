// The part of Next.js the examples use, so they type-check without `next`
// installed. In an app the real module provides it.
declare module "next/headers" {
  export function headers(): Promise<Headers>;
}
