// Loaded into the Portkey gateway's Node process by the bench (node --import). On Node 20 its
// streamed answers fail with "TypeError: immutable" in updateHeaders: @hono/node-server hands the
// gateway a Response whose Headers are the fetch's own, which are immutable. Giving every fetched
// Response headers of its own is the smallest change that lets it stream; nothing else differs.
const original = globalThis.fetch;
globalThis.fetch = async (...args) => {
  const response = await original(...args);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers: new Headers(response.headers) });
};
