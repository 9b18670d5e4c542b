import type * as CosmosSdk from "@azure/cosmos";

/**
 * @azure/cosmos, loaded on first use. It is built into a module of its own
 * (scripts/build-vendor.mjs) and uploaded beside the worker (find_additional_modules in
 * wrangler.toml), so an isolate pays its parse (about as much as the rest of the worker
 * together) only when a request needs Cosmos, never at startup. The specifier is a variable so the
 * bundler leaves the import alone; this file sits at the root of src/ so the same relative path
 * holds in the source and in the upload.
 */
const SPECIFIER = "./vendor/azure-cosmos.mjs";

export function loadCosmosSdk(): Promise<typeof CosmosSdk> {
  return import(/* @vite-ignore */ SPECIFIER) as Promise<typeof CosmosSdk>;
}
