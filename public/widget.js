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
  if (!tokenUrl) {
    console.error("concierge widget: data-token-url is required (your backend's endpoint that mints widget tokens)");
    return;
  }
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
    ol:focus-visible { outline: 3px solid #ffbf47; outline-offset: -3px; }
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
  // Focusable, so a keyboard alone can scroll back through a long conversation.
  const list = el("ol", { "aria-label": "Conversation", tabindex: "0" });
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

  // resumable: whether the proxy's replies outlive a dropped connection, as its last answer said.
  const state = { token: null, expiresAt: 0, session: null, sync: null, restoring: null, busy: false, resumable: false };

  // Storage may be blocked or full; the widget then simply forgets across reloads.
  const stored = {
    get: (key) => {
      try {
        return localStorage.getItem(key);
      } catch {
        return null;
      }
    },
    set: (key, value) => {
      try {
        localStorage.setItem(key, value);
      } catch {
        // not kept
      }
    },
  };

  /** The sync token of the session's last saved turn, kept with the session across reloads. */
  const remember = (sync) => {
    state.sync = sync;
    if (state.session) stored.set(`concierge.sync.${state.session}`, sync);
  };

  const open = () => {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    input.focus();
    state.restoring ??= restore();
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
      event.stopPropagation();
      shut();
    }
  });

  const say = (text) => (status.textContent = text);
  /** A message's item: who said it, for screen readers (colour and side say it to everyone else), and its text. */
  const item = (role, text) => el("li", { class: role }, [el("span", { class: "visually-hidden", text: role === "user" ? "You: " : "Assistant: " }), el("span", { text })]);
  const atEnd = () => list.scrollHeight - list.scrollTop - list.clientHeight < 48;
  const add = (role, text) => {
    const added = item(role, text);
    list.append(added);
    added.scrollIntoView({ block: "end" });
    return added.lastChild;
  };
  /** Text for a reply as it streams in: the list follows it down, unless the visitor scrolled up to read. */
  const write = (bubble, text, replace = false) => {
    const following = atEnd();
    bubble.textContent = replace ? text : bubble.textContent + text;
    if (following) list.scrollTop = list.scrollHeight;
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
    if (response.status === 413) return new Failure("That message is too long. Please shorten it and send it again.");
    if (response.status === 503) return new Failure("The assistant is unavailable right now. Please try again in a moment.");
    return new Failure("Something went wrong. Please try again.");
  }

  /**
   * A request to the proxy as this user: a refused token is renewed once, and a sync token the
   * proxy refuses (from a database that has since changed) is dropped once.
   */
  async function call(path, init = {}) {
    let renew = false;
    for (let attempt = 0; ; attempt++) {
      const headers = {
        ...init.headers,
        Authorization: `Bearer ${await token(renew)}`,
        ...(state.session ? { "X-Session-Id": state.session } : {}),
        ...(state.sync ? { "X-Session-Sync": state.sync } : {}),
      };
      const response = await fetch(`${endpoint}${path}`, { ...init, headers });
      if (attempt >= 2) return response;
      if (response.status === 401 && !renew) renew = true;
      else if (response.status === 400 && state.sync) state.sync = null;
      else return response;
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
    try {
      const key = `concierge.session.${endpoint}.${subjectOf(await token())}`;
      state.session = stored.get(key);
      state.sync = state.session && stored.get(`concierge.sync.${state.session}`);
      if (!state.session) {
        state.session = `w_${crypto.randomUUID().replaceAll("-", "")}`;
        stored.set(key, state.session);
        return;
      }
      const response = await call(`/v1/sessions/${encodeURIComponent(state.session)}`);
      if (response.status === 404) return; // expired or forgotten: a fresh start
      if (!response.ok) throw failureOf(response);
      // Above anything sent meanwhile: a visitor may type before a slow restore has come.
      const earlier = (await response.json()).messages.filter(
        (message) => (message.role === "user" || message.role === "assistant") && typeof message.content === "string" && message.content,
      );
      list.prepend(...earlier.map((message) => item(message.role, message.content)));
      list.scrollTop = list.scrollHeight;
    } catch (error) {
      state.restoring = null; // try again with the next message
      say(error instanceof Failure ? error.message : "The chat could not connect. Please try again later.");
    }
  }

  /** Server-sent events as they arrive: `{ data }` for each event, `{ id }` for each id the proxy sends. */
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
        const lines = buffer.slice(0, end).split("\n");
        buffer = buffer.slice(end + 2);
        // The session's sync token, sent once the turn is saved: echoed, the next turn reads it wherever it runs.
        if (lines[0].startsWith(": session-sync ")) remember(lines[0].slice(": session-sync ".length).trim());
        const data = lines
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).trimStart())
          .join("\n");
        if (data) yield { data };
        for (const line of lines) if (line.startsWith("id:")) yield { id: line.slice(3).trim() };
      }
    }
  }

  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** No byte for this long means the connection is gone, even if nothing said so. */
  const STALL_MS = 30_000;
  /** How long a dropped reply is tried for, from the drop (or from the last piece that came). */
  const RECONNECT_MS = 30_000;

  /** A chat request, given up if no answer begins within `stallMs`. */
  function chat(request, connection, stallMs = STALL_MS) {
    const stall = setTimeout(() => connection.abort(), stallMs);
    return call("/v1/chat/completions", { ...request, signal: connection.signal }).finally(() => clearTimeout(stall));
  }

  /**
   * Shows a streamed reply in `bubble` as it arrives. True once it is complete; false if the
   * connection gave out first (or went silent for STALL_MS), so the rest is still to come.
   * `progress.id` is the last piece shown. A resumable reply's text is shown a piece at a time,
   * when the piece's id has come: a connection that drops inside a piece gets the piece again
   * whole, so what was shown of it must not stay.
   */
  async function show(response, bubble, progress, connection) {
    const pieces = response.headers.get("X-Reply-Resumable") === "true";
    let held = "";
    let stall;
    const alive = () => {
      clearTimeout(stall);
      stall = setTimeout(() => connection.abort(), STALL_MS);
    };
    alive();
    try {
      for await (const event of events(response)) {
        alive();
        if (event.id !== undefined) {
          write(bubble, held);
          held = "";
          progress.id = event.id;
        } else if (event.data === "[DONE]") {
          write(bubble, held);
          return true;
        } else {
          const chunk = JSON.parse(event.data);
          // The proxy's own failure: nothing was saved, so there is nothing to resume.
          if (chunk.error) throw new Failure("The answer could not be completed. Please send your message again.");
          const delta = chunk.choices?.[0]?.delta?.content ?? "";
          if (pieces) held += delta;
          else write(bubble, delta);
        }
      }
    } catch (error) {
      if (error instanceof Failure) throw error;
    } finally {
      clearTimeout(stall);
    }
    // Ended without [DONE] and without an error: the connection, not the proxy, gave out.
    return false;
  }

  /**
   * A reply cut off by a dropped connection, where the proxy owns the generation (it says so with
   * X-Reply-Resumable): the same request again, with the same Idempotency-Key and the last event
   * id shown, attaches to the reply the proxy goes on generating and streams the rest, each word
   * once. An answer that is not that reply resumed (a saved reply replayed, or a first attempt that
   * never reached the proxy, run now) is shown from its start instead.
   */
  async function reattach(request, bubble, progress) {
    let wait = 300;
    for (let until = Date.now() + RECONNECT_MS; Date.now() < until; ) {
      await pause(wait);
      wait = 1500; // unless a 429 says how long
      try {
        const connection = new AbortController();
        const headers = { ...request.headers, "Last-Event-ID": progress.id || "0" };
        const response = await chat({ ...request, headers }, connection, Math.max(1000, until - Date.now()));
        if (response.status === 429) {
          wait = 1000 * (Number(response.headers.get("Retry-After")) || 5);
          continue;
        }
        if (response.status < 500 && !response.ok) return false;
        if (!response.ok) continue; // 5xx: try again
        say("");
        if (response.headers.get("X-Reply-Resumed") !== "true") {
          bubble.textContent = "";
          progress.id = "";
        }
        const before = progress.id;
        if (await show(response, bubble, progress, connection)) return true;
        say("Connection lost. Reconnecting…");
        // Dropped again after more of the reply came: another 30 s to reconnect.
        if (progress.id !== before) until = Date.now() + RECONNECT_MS;
      } catch (error) {
        if (error instanceof Failure) throw error;
        // still offline: try again
      }
    }
    return false;
  }

  /**
   * A reply cut off by a dropped connection, where the proxy finishes it on its own (its answers
   * carry no X-Reply-Resumable: turned off there, or not known before its first answer): completed
   * from the session once saved, the rest of the same reply shown once (the saved reply begins
   * with what was shown). Only the session's newest exchange can be it.
   */
  async function complete(text, bubble, attempts) {
    const shown = bubble.textContent;
    let wait = 300;
    for (let attempt = 0; attempt < attempts; attempt++) {
      await pause(wait);
      wait = 1500; // unless a 429 says how long
      try {
        const response = await call(`/v1/sessions/${encodeURIComponent(state.session)}`, { signal: AbortSignal.timeout(10_000) });
        if (response.status === 429) {
          wait = 1000 * (Number(response.headers.get("Retry-After")) || 5);
          continue;
        }
        if (response.status === 401 || response.status === 403) return false;
        if (!response.ok) continue; // 404: not saved yet (a new session), or 5xx: try again
        const { messages } = await response.json();
        const [asked, answer] = messages.slice(-2);
        if (asked?.role !== "user" || asked.content !== text || answer?.role !== "assistant") continue;
        const reply = typeof answer.content === "string" ? answer.content : "";
        if (!reply.startsWith(shown)) continue;
        write(bubble, reply, true);
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
    const asked = add("user", text).parentElement;
    say("");
    let bubble;
    // One key for the message, so a retry after a dropped connection is the same request.
    const request = {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": crypto.randomUUID() },
      body: JSON.stringify({ stream: true, messages: [{ role: "user", content: text }] }),
    };
    const progress = { id: "" };
    try {
      await (state.restoring ??= restore());
      const connection = new AbortController();
      const response = await chat(request, connection);
      if (!response.ok) throw failureOf(response);
      // Without a session of its own yet (storage blocked, restore failed), keep the one the proxy started.
      if (!state.session && response.headers.get("X-Session-Id")) state.session = response.headers.get("X-Session-Id");
      state.resumable = response.headers.get("X-Reply-Resumable") === "true";
      bubble = add("assistant", "");
      bubble.setAttribute("aria-busy", "true");
      if (!(await show(response, bubble, progress, connection))) throw new Error("cut off");
    } catch (error) {
      let recovered = false;
      // The connection dropped: the proxy goes on with the reply, so get the rest from it.
      if (!(error instanceof Failure) && state.session) {
        say("Connection lost. Reconnecting…");
        // A reply that had begun is surely being saved: wait for it (30 s). One that had not may
        // never have left the page (offline, or a page whose origin the proxy refuses): look briefly.
        const begun = bubble !== undefined;
        bubble ??= add("assistant", "");
        try {
          recovered = state.resumable ? await reattach(request, bubble, progress) : await complete(text, bubble, begun ? 20 : 4);
        } catch (failure) {
          error = failure;
        }
      }
      if (!recovered) {
        // Not answered, so not sent as far as the visitor can tell: the message goes back to the
        // input to send again (or shorten), and a reply cut off half-way goes (it was not saved).
        bubble?.parentElement.remove();
        asked.remove();
        if (!input.value) input.value = text;
        say(error instanceof Failure ? error.message : "The connection was lost, and the answer could not be recovered. Please send your message again.");
        return;
      }
    } finally {
      state.busy = false;
      send.disabled = false;
      // Back to the input only if the visitor is still in the widget (or focus fell off the disabled button).
      if (!panel.hidden && (root.activeElement || document.activeElement === document.body)) input.focus();
    }
    bubble.removeAttribute("aria-busy");
    announcer.textContent = bubble.textContent;
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
