// Lets `exports` and `env` from "cloudflare:workers" carry our worker's types in tests.
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import("../../src/index");
  }
  interface Env {
    SESSION_SYNC: DurableObjectNamespace<import("../../src/redis/session-sync-object").SessionSync>;
    SESSION_TURNS: DurableObjectNamespace<import("../../src/chat/session-turns-object").SessionTurns>;
  }
}
