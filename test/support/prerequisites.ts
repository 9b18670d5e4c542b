/**
 * What `npm test` decided before starting vitest (scripts/test-prerequisites.mjs) when
 * redis-server or chromium is missing and cannot be installed: the suites that need redis-server
 * itself skip (the rest run on the embedded backend), and so does the browser test, each saying
 * why in its name.
 */
export const noRedisServer = process.env.CONCIERGE_REDIS === "embedded";
export const noBrowser = process.env.CONCIERGE_BROWSER === "none";

/** The title of a test that needs redis-server, with the reason when it is skipped. */
export function needsRedisServer(title: string): string {
  return noRedisServer ? `${title} (skipped: no redis-server, CONCIERGE_REDIS=embedded)` : title;
}

/** The title of a test that needs chromium, with the reason when it is skipped. */
export function needsBrowser(title: string): string {
  return noBrowser ? `${title} (skipped: no chromium, CONCIERGE_BROWSER=none)` : title;
}
