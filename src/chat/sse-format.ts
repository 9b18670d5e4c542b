import type { StreamFormat } from "../turn/relay";

/**
 * Chat Completions: the upstream's events forwarded as they are, `[DONE]` held back until the save.
 * `sync` gives the session's sync token once the turn is saved: it goes out as an SSE comment
 * (`: session-sync <token>`) just before `[DONE]`, since a stream's headers left long before.
 * Clients that do not look for it skip comments, as SSE parsers do.
 */
export function chatFormat(sync: () => string | null | undefined = () => undefined): StreamFormat {
  return {
    start: () => "",
    event: (raw) => `${raw}\n\n`,
    end: () => {
      const token = sync();
      return `${token ? `: session-sync ${token}\n\n` : ""}data: [DONE]\n\n`;
    },
    fail: (error) => `data: ${JSON.stringify(error.toJSON())}\n\n`,
  };
}
