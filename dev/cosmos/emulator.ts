import { createHttpServer } from "@vercel/cosmosdb-server";
import type { AddressInfo } from "node:net";
import { provisionCosmos } from "./provision";

/**
 * The emulator accepts any key (it checks no signatures), but the SDK wants a base64 one:
 * this is the well-known key of Microsoft's own Cosmos DB emulator, not a secret.
 */
export const EMULATOR_KEY = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==";

export interface CosmosEmulator {
  endpoint: string;
  key: string;
  close(): Promise<void>;
}

/** An in-memory Cosmos DB over plain HTTP on loopback, with concierge's database and container created. */
export async function startCosmosEmulator(options: { database: string; container: string; port?: number }): Promise<CosmosEmulator> {
  const server = createHttpServer();
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  try {
    await provisionCosmos({ endpoint, key: EMULATOR_KEY, database: options.database, container: options.container });
  } catch (error) {
    await close();
    throw error;
  }
  return { endpoint, key: EMULATOR_KEY, close };
}
