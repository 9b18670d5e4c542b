// The demo widget: a chat that remembers, talking to the proxy the way a real widget would,
// with a short-lived widget token (never an API key) and an X-Session-Id it keeps.

const $ = (id) => document.getElementById(id);
const api = (path) => new URL(path, location.origin).toString();

/** The token arrives in the URL fragment (never sent to any server), then lives in this tab only. */
function takeToken() {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromHash) {
    sessionStorage.setItem("concierge.token", fromHash);
    history.replaceState(null, "", location.pathname);
  }
  return sessionStorage.getItem("concierge.token");
}

function userOf(token) {
  try {
    return JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).sub;
  } catch {
    return "unknown";
  }
}

function newSessionId() {
  return `web_${crypto.randomUUID().replaceAll("-", "")}`;
}

function addMessage(role, text) {
  const item = document.createElement("li");
  item.className = role;
  item.textContent = text;
  $("messages").append(item);
  item.scrollIntoView({ block: "end" });
  return item;
}

function say(text) {
  $("status").textContent = text;
}

/** The error a failed request carries, in OpenAI's shape. */
async function errorText(response) {
  try {
    const body = await response.json();
    return body.error?.message ?? `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

/** Reads server-sent events as they arrive, calling back with each event's data. */
async function readEvents(response, onData) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n");
      if (data) onData(data);
    }
  }
}

const state = { token: takeToken(), session: null };

function headers(extra = {}) {
  return { Authorization: `Bearer ${state.token}`, "X-Session-Id": state.session, ...extra };
}

function useSession(id) {
  state.session = id;
  localStorage.setItem(`concierge.session.${userOf(state.token)}`, id);
  $("session").textContent = id;
}

async function restoreHistory() {
  const response = await fetch(api(`/v1/sessions/${encodeURIComponent(state.session)}`), { headers: headers() });
  if (response.status === 404) return; // new, expired or forgotten: start fresh
  if (!response.ok) return say(await errorText(response));
  const session = await response.json();
  showSummary(session);
  for (const message of session.messages) {
    if (message.role === "user" || message.role === "assistant") addMessage(message.role, message.content ?? "");
  }
}

/** The session's summary, as text (never HTML), and how much of the conversation it stands for. */
function showSummary(session) {
  $("summary").textContent = session.summary ? `${session.summary} (covers the first ${session.summary_covers} messages)` : "Nothing yet.";
}

/** After a turn: the summary may have grown in the background. */
async function refreshSummary() {
  const response = await fetch(api(`/v1/sessions/${encodeURIComponent(state.session)}`), { headers: headers() });
  if (response.ok) showSummary(await response.json());
}

async function send(text) {
  addMessage("user", text);
  const bubble = addMessage("assistant", "");
  $("send").disabled = true;
  say("…");
  try {
    const response = await fetch(api("/v1/chat/completions"), {
      method: "POST",
      headers: headers({ "Content-Type": "application/json" }),
      body: JSON.stringify({ stream: true, messages: [{ role: "user", content: text }] }),
    });
    if (!response.ok) {
      bubble.className = "error";
      bubble.textContent = await errorText(response);
      return say("");
    }
    let finished = false;
    await readEvents(response, (data) => {
      if (data === "[DONE]") {
        finished = true;
        return;
      }
      const chunk = JSON.parse(data);
      if (chunk.error) {
        bubble.className = "error";
        bubble.textContent += `\n${chunk.error.message}`;
        return;
      }
      bubble.textContent += chunk.choices?.[0]?.delta?.content ?? "";
    });
    const kept = response.headers.get("X-History-Kept");
    say(finished ? `Remembered. The model saw ${kept} earlier message(s) of this session.` : "The answer did not complete; it was not saved.");
    // Both may have grown in the background, after the answer: the summary, and preferences
    // learned from this turn (the extraction takes a moment, hence the short wait).
    if (finished) {
      refreshSummary();
      setTimeout(loadPreferences, 1500);
    }
  } catch (error) {
    bubble.className = "error";
    bubble.textContent = `Network error: ${error.message}`;
    say("");
  } finally {
    $("send").disabled = false;
  }
}

let profileEtag = null;
/** The preferences as last loaded or saved: a refresh replaces only text the user has not edited. */
let shownPreferences = "{}";

async function loadPreferences() {
  const response = await fetch(api("/v1/profile"), { headers: headers() });
  if (!response.ok) return ($("preferences-status").textContent = await errorText(response));
  const loaded = JSON.stringify((await response.json()).preferences, null, 2);
  if ($("preferences").value !== shownPreferences && !$("preferences").disabled) return; // being edited: keep it
  profileEtag = response.headers.get("ETag");
  $("preferences").value = shownPreferences = loaded;
  // Editable only now: text typed before the stored preferences arrived would be overwritten.
  $("preferences").disabled = false;
  $("save-preferences").disabled = false;
}

async function savePreferences() {
  let preferences;
  try {
    preferences = JSON.parse($("preferences").value);
  } catch {
    return ($("preferences-status").textContent = "That is not valid JSON.");
  }
  const response = await fetch(api("/v1/profile"), {
    method: "PUT",
    headers: headers({ "Content-Type": "application/json", ...(profileEtag ? { "If-Match": profileEtag } : {}) }),
    body: JSON.stringify({ preferences }),
  });
  if (!response.ok) return ($("preferences-status").textContent = await errorText(response));
  profileEtag = response.headers.get("ETag");
  shownPreferences = $("preferences").value;
  $("preferences-status").textContent = "Saved. The next answer knows.";
}

async function start() {
  if (!state.token) {
    $("token-dialog").showModal();
    $("token-dialog").addEventListener("close", () => {
      sessionStorage.setItem("concierge.token", $("token-input").value.trim());
      location.reload();
    });
    return;
  }
  $("user").textContent = userOf(state.token);
  useSession(localStorage.getItem(`concierge.session.${userOf(state.token)}`) ?? newSessionId());
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("prompt").value.trim();
    $("prompt").value = "";
    if (text) send(text);
  });
  $("new-session").addEventListener("click", () => {
    useSession(newSessionId());
    $("messages").replaceChildren();
    say("New session: nothing said yet.");
  });
  $("save-preferences").addEventListener("click", savePreferences);
  await Promise.all([restoreHistory(), loadPreferences()]);
}

start();
