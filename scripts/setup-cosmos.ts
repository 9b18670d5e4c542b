/**
 * `npm run setup:cosmos`: creates the database and container for profiles on the account named by
 * COSMOS_ENDPOINT and COSMOS_KEY (environment or .dev.vars), e.g. before the first deploy.
 */
import { existsSync, readFileSync } from "node:fs";
import { provisionCosmos } from "../dev/cosmos/provision";
import { parseDotenv } from "../dev/stack";

const fileVars = existsSync(".dev.vars") ? parseDotenv(readFileSync(".dev.vars", "utf8")) : {};
const setting = (name: string) => process.env[name] || fileVars[name];

const endpoint = setting("COSMOS_ENDPOINT");
const key = setting("COSMOS_KEY");
if (!endpoint || !key) {
  console.error("setup:cosmos: set COSMOS_ENDPOINT and COSMOS_KEY (the account's URI and primary key).");
  process.exit(2);
}
const database = setting("COSMOS_DATABASE") ?? "agent-db";
const container = setting("COSMOS_CONTAINER") ?? "user-memory";

provisionCosmos({ endpoint, key, database, container })
  .then(({ databaseCreated, containerCreated }) => {
    console.log(`database ${database}: ${databaseCreated ? "created" : "already there"}`);
    console.log(`container ${container} (partition key /user_id, default TTL on): ${containerCreated ? "created" : "already there"}`);
  })
  .catch((error: unknown) => {
    console.error(`setup:cosmos failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
