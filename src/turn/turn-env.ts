import type { AppEnv } from "../auth/app-env";
import type { ReplyLog } from "./reply-log";

/** What a turn's request carries: the app's, and in a session's Durable Object the reply log. */
export interface TurnEnv extends AppEnv {
  Variables: AppEnv["Variables"] & {
    /** Set in a session's Durable Object: where a streamed reply goes, for clients to attach to. */
    replyLog?: ReplyLog;
  };
}
