/**
 * Whether an If-Match or If-None-Match header names `etag`: a comma-separated list of entity tags,
 * weak (`W/"..."`) or strong, compared by their opaque part, or `*` for any current version.
 * No version (`etag` undefined) is named by nothing, `*` included.
 */
export function namesEtag(header: string, etag: string | undefined): boolean {
  if (etag === undefined) return false;
  return header.split(",").some((tag) => {
    const trimmed = tag.trim();
    return trimmed === "*" || trimmed.replace(/^W\//, "") === etag;
  });
}
