import { CosmosClient } from "@azure/cosmos";

export interface CosmosTarget {
  endpoint: string;
  key: string;
  database: string;
  container: string;
}

/**
 * Creates what concierge's profiles need, if missing: the database and a container partitioned
 * by /user_id with TTL on (defaultTtl -1: documents expire only by their own `ttl` field).
 * Safe to run again. Works on a real account and on the local emulator alike.
 */
export async function provisionCosmos(target: CosmosTarget): Promise<{ databaseCreated: boolean; containerCreated: boolean }> {
  const client = new CosmosClient({
    endpoint: target.endpoint,
    key: target.key,
    connectionPolicy: { enableEndpointDiscovery: false },
  });
  try {
    const { statusCode: dbStatus, database } = await client.databases.createIfNotExists({ id: target.database });
    const { statusCode: containerStatus, resource } = await database.containers.createIfNotExists({
      id: target.container,
      partitionKey: { paths: ["/user_id"] },
      defaultTtl: -1,
    });
    const paths = resource?.partitionKey?.paths ?? [];
    if (!paths.includes("/user_id")) {
      throw new Error(`container ${target.container} exists with partition key ${JSON.stringify(paths)}, not /user_id: profiles need /user_id`);
    }
    return { databaseCreated: dbStatus === 201, containerCreated: containerStatus === 201 };
  } finally {
    client.dispose();
  }
}
