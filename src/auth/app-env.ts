import type { Config, Env } from "../config";
import type { Caller } from "./caller";
import type { ServerTiming } from "../http/server-timing";

/** What Hono carries through a request: the bindings and what middleware learned. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: Config;
    timing: ServerTiming;
    caller: Caller;
  };
}
