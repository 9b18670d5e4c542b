// Lets `exports` and `env` from "cloudflare:workers" carry our worker's types in tests.
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import("../../src/index");
  }
  interface Env {
    SESSION_SYNC: DurableObjectNamespace<import("../../src/turn/session-sync-object").SessionSync>;
    SESSION_TURNS: DurableObjectNamespace<InstanceType<typeof import("../../src/index").SessionTurns>>;
  }
}
