/**
 * The o200k BPE tokenizer (gpt-tokenizer), loaded on first use when TOKENIZER=exact. Like the
 * Cosmos SDK it is a module of its own (scripts/build-vendor.mjs, find_additional_modules in
 * wrangler.toml): at over a megabyte compressed, an isolate that counts by estimate never parses
 * it. The specifier is a variable so the bundler leaves the import alone; this file sits at the
 * root of src/ so the same relative path holds in the source and in the upload.
 */
const SPECIFIER = "./vendor/o200k.mjs";

export interface Tokenizer {
  countTokens(text: string): number;
}

let loading: Promise<Tokenizer> | undefined;

export function loadTokenizer(): Promise<Tokenizer> {
  loading ??= import(/* @vite-ignore */ SPECIFIER) as Promise<Tokenizer>;
  return loading;
}
