// concierge's chat widget: one script tag adds a chat launcher to any page.
//
//   <script src="https://<proxy>/widget.js" data-endpoint="https://<proxy>"
//           data-token-url="/my-backend/concierge-token" async></script>
//
// Everything lives in a shadow root (the page's CSS cannot reach in, nor ours out), text is only
// ever set as text, and the widget holds nothing but a short-lived widget token that it gets, and
// renews, from the page's own backend (data-token-url answers POST with {"token": "..."}).
(() => {
  const script = document.currentScript;
  if (!script) return;
  const endpoint = (script.dataset.endpoint || new URL(script.src).origin).replace(/\/+$/, "");
  const tokenUrl = script.dataset.tokenUrl;
  const title = script.dataset.title || "Chat";

  const STYLE = `
    :host { all: initial; }
    * { box-sizing: border-box; font: 15px/1.4 system-ui, sans-serif; }
    .launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; border: 0; border-radius: 999px;
      padding: 12px 18px; background: #1f5fbf; color: #fff; cursor: pointer; box-shadow: 0 2px 10px rgb(0 0 0 / 25%); }
    .launcher:focus-visible, button:focus-visible, input:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
    .panel { position: fixed; right: 20px; bottom: 76px; z-index: 2147483000; width: min(380px, calc(100vw - 40px));
      height: min(520px, calc(100vh - 110px)); display: flex; flex-direction: column; background: #fff; color: #1b1b1b;
      border: 1px solid #c8c8c8; border-radius: 12px; box-shadow: 0 4px 24px rgb(0 0 0 / 25%); }
    .panel[hidden] { display: none; }
    header { display: flex; align-items: center; justify-content: space-between; padding: 10px 14px; border-bottom: 1px solid #e2e2e2; }
    h2 { margin: 0; font-weight: 600; }
    .close { border: 0; background: transparent; color: #1b1b1b; cursor: pointer; padding: 4px 8px; font-size: 18px; }
    ol { list-style: none; margin: 0; padding: 12px; overflow-y: auto; flex: 1; }
    li { margin: 0 0 8px; padding: 8px 10px; border-radius: 10px; white-space: pre-wrap; overflow-wrap: anywhere; }
    li.user { background: #e8f0fe; margin-left: 40px; }
    li.assistant { background: #f2f2f2; margin-right: 40px; }
    .status { min-height: 1.4em; padding: 0 14px; color: #6b2c00; }
    form { display: flex; gap: 8px; padding: 10px 14px; border-top: 1px solid #e2e2e2; }
    input { flex: 1; padding: 8px 10px; border: 1px solid #767676; border-radius: 8px; color: #1b1b1b; background: #fff; }
    form button { border: 0; border-radius: 8px; padding: 8px 14px; background: #1f5fbf; color: #fff; cursor: pointer; }
    form button:disabled { background: #767676; }
    .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }`;

  const host = document.createElement("div");
  host.setAttribute("data-concierge-widget", "");
  const root = host.attachShadow({ mode: "open" });
  const el = (tag, props = {}, children = []) => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props)) {
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value);
    }
    node.append(...children);
    return node;
  };

  const launcher = el("button", { class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "concierge-panel", text: title });
  const heading = el("h2", { id: "concierge-title", text: title });
  const close = el("button", { class: "close", type: "button", "aria-label": `Close ${title}`, text: "×" });
  const list = el("ol", { "aria-label": "Conversation" });
  // Replies are announced as they complete, not word by word.
  const announcer = el("div", { class: "visually-hidden", "aria-live": "polite" });
  const status = el("p", { class: "status", role: "status" });
  const label = el("label", { for: "concierge-input", class: "visually-hidden", text: "Your message" });
  const input = el("input", { id: "concierge-input", type: "text", autocomplete: "off", maxlength: "4000" });
  const send = el("button", { type: "submit", text: "Send" });
  const form = el("form", {}, [label, input, send]);
  const panel = el("section", { class: "panel", id: "concierge-panel", role: "dialog", "aria-labelledby": "concierge-title", hidden: "" }, [
    el("header", {}, [heading, close]),
    list,
    announcer,
    status,
    form,
  ]);
  root.append(el("style", { text: STYLE }), launcher, panel);

  const state = { token: null, expiresAt: 0, session: null, sync: null, restored: false, busy: false };

  /** The sync token of the session's last saved turn, kept with the session across reloads. */
  const remember = (sync) => {
    state.sync = sync;
    if (state.session) localStorage.setItem(`concierge.sync.${state.session}`, sync);
  };

  const open = () => {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    input.focus();
    if (!state.restored) restore();
  };
  const shut = () => {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  };
  launcher.addEventListener("click", () => (panel.hidden ? open() : shut()));
  close.addEventListener("click", shut);
  root.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) {
      event.preventDefault();
      shut();
    }
  });

  const say = (text) => (status.textContent = text);
  const add = (role, text) => {
    const item = el("li", { class: role, text });
    list.append(item);
    item.scrollIntoView({ block: "end" });
    return item;
  };

  /** A widget token from the page's backend, renewed a minute before it expires (or when refused). */
  async function token(renew = false) {
    if (!renew && state.token && Date.now() < state.expiresAt - 60_000) return state.token;
    const response = await fetch(tokenUrl, { method: "POST", credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Failure("Please sign in to chat.");
    const body = await response.json();
    state.token = body.token;
    state.expiresAt = body.expires_at ? Date.parse(body.expires_at) : Date.now() + 5 * 60_000;
    return state.token;
  }

  class Failure extends Error {}

  /** What a person should read for a failed answer. */
  function failureOf(response) {
    if (response.status === 401 || response.status === 403) return new Failure("Please sign in again to go on chatting.");
    if (response.status === 429) {
      const wait = Number(response.headers.get("Retry-After"));
      return new Failure(wait > 0 ? `You're sending messages quickly. Please wait ${wait} second${wait === 1 ? "" : "s"} and try again.` : "You're sending messages quickly. Please wait a moment and try again.");
    }
    if (response.status === 503) return new Failure("The assistant is unavailable right now. Please try again in a moment.");
    return new Failure("Something went wrong. Please try again.");
  }

  /** A request to the proxy as this user; a refused token is renewed once. */
  async function call(path, init = {}) {
    for (const renew of [false, true]) {
      const headers = {
        ...init.headers,
        Authorization: `Bearer ${await token(renew)}`,
        ...(state.session ? { "X-Session-Id": state.session } : {}),
        ...(state.sync ? { "X-Session-Sync": state.sync } : {}),
      };
      const response = await fetch(`${endpoint}${path}`, { ...init, headers });
      if (response.status !== 401 || renew) return response;
    }
  }

  function subjectOf(jwt) {
    try {
      return JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).sub;
    } catch {
      return "anonymous";
    }
  }

  /** The session this browser keeps for this user, and what it holds. */
  async function restore() {
    state.restored = true;
    try {
      const key = `concierge.session.${endpoint}.${subjectOf(await token())}`;
      state.session = localStorage.getItem(key);
      state.sync = state.session && localStorage.getItem(`concierge.sync.${state.session}`);
      if (!state.session) {
        state.session = `w_${crypto.randomUUID().replaceAll("-", "")}`;
        localStorage.setItem(key, state.session);
        return;
      }
      const response = await call(`/v1/sessions/${encodeURIComponent(state.session)}`);
      if (response.status === 404) return; // expired or forgotten: a fresh start
      if (!response.ok) throw failureOf(response);
      for (const message of (await response.json()).messages) {
        if ((message.role === "user" || message.role === "assistant") && message.content) add(message.role, message.content);
      }
    } catch (error) {
      say(error instanceof Failure ? error.message : "The chat could not connect. Please try again later.");
    }
  }

  /** Server-sent events as they arrive: each event's data. */
  async function* events(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const block = buffer.slice(0, end);
        // The session's sync token, sent once the turn is saved: echoed, the next turn reads it wherever it runs.
        if (block.startsWith(": session-sync ")) remember(block.slice(": session-sync ".length).trim());
        const data = block
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).trimStart())
          .join("\n");
        buffer = buffer.slice(end + 2);
        if (data) yield data;
      }
    }
  }

  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /**
   * A reply cut off by a dropped connection, completed from the session once the proxy has saved
   * it: the rest of the same reply, shown once (what was already shown is not repeated). The
   * proxy finishes a turn whose client left (within the 30 s Workers grants it), so polling the
   * session is all it takes, and a turn that never drops costs nothing more.
   */
  async function resume(text, bubble) {
    say("Connection lost. Reconnecting…");
    for (let attempt = 0; attempt < 30; attempt++) {
      await pause(attempt === 0 ? 300 : 1000);
      try {
        const response = await call(`/v1/sessions/${encodeURIComponent(state.session)}`);
        if (!response.ok) continue;
        const { messages } = await response.json();
        const asked = messages.findLastIndex((m, i) => m.role === "user" && m.content === text && messages[i + 1]?.role === "assistant");
        if (asked === -1) continue;
        // The whole reply, which begins with what was shown before the drop: nothing shows twice.
        bubble.textContent = messages[asked + 1].content ?? "";
        bubble.removeAttribute("aria-busy");
        announcer.textContent = bubble.textContent;
        say("");
        return true;
      } catch {
        // still offline: try again
      }
    }
    return false;
  }

  async function ask(text) {
    state.busy = true;
    send.disabled = true;
    add("user", text);
    say("");
    let bubble;
    try {
      const response = await call("/v1/chat/completions", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ stream: true, messages: [{ role: "user", content: text }] }),
      });
      if (!response.ok) throw failureOf(response);
      bubble = add("assistant", "");
      bubble.setAttribute("aria-busy", "true");
      let finished = false;
      for await (const data of events(response)) {
        if (data === "[DONE]") {
          finished = true;
          break;
        }
        const chunk = JSON.parse(data);
        if (chunk.error) break;
        bubble.textContent += chunk.choices?.[0]?.delta?.content ?? "";
      }
      bubble.removeAttribute("aria-busy");
      if (!finished) throw new Failure("The answer was interrupted. Please send your message again.");
      announcer.textContent = bubble.textContent;
    } catch (error) {
      // The connection dropped mid-reply: the proxy goes on and saves the turn; wait for it there.
      if (bubble && !(error instanceof Failure) && (await resume(text, bubble))) return;
      bubble?.removeAttribute("aria-busy");
      say(error instanceof Failure ? error.message : "The connection was lost. Please check your network and try again.");
    } finally {
      state.busy = false;
      send.disabled = false;
      input.focus();
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || state.busy) return;
    input.value = "";
    ask(text);
  });

  (document.body ? Promise.resolve() : new Promise((resolve) => addEventListener("DOMContentLoaded", resolve, { once: true }))).then(() => document.body.append(host));
})();
