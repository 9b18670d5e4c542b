import { CosmosClient } from "@azure/cosmos";
import { afterAll, describe, expect, it } from "vitest";
import { ProfileStore } from "../../src/memory/profile-store";
import { stack, uniqueId } from "../support/context";

// The store itself, on the Node build of the same SDK, against the emulator: what the worker
// only does now and then (a TTL refresh) is checked here directly.
const client = new CosmosClient({ endpoint: stack().cosmosEndpoint, key: stack().cosmosKey, connectionPolicy: { enableEndpointDiscovery: false } });
const container = client.database("agent-db").container("user-memory");
const settings = {
  endpoint: stack().cosmosEndpoint,
  key: stack().cosmosKey,
  database: "agent-db",
  container: "user-memory",
  timeoutMs: 2000,
  breakerSeconds: 0,
  profileTtlSeconds: 7_776_000,
  cacheTtlSeconds: 300,
};
const store = new ProfileStore(container, settings);
afterAll(() => client.dispose());

describe("ProfileStore.touch", () => {
  it("rewrites the TTL (restarting Cosmos's clock) without changing the preferences or their ETag", async () => {
    const user = uniqueId("touch");
    const written = await store.update(user, undefined, () => ({ language: "es" }));
    const before = (await container.item(user, user).read()).resource;
    await container.item(user, user).patch([{ op: "set", path: "/ttl", value: 60 }]); // as if about to expire

    await store.touch(user);

    const after = (await container.item(user, user).read()).resource;
    expect(after.ttl).toBe(7_776_000);
    expect(after._etag).not.toBe(before._etag);
    const profile = await store.read(user);
    expect(profile.preferences).toEqual({ language: "es" });
    expect(profile.etag).toBe(written.etag);
    expect(profile.updatedAt).toBe(written.updatedAt);
  });
});

describe("ProfileStore addresses one user's document, whatever id it is given", () => {
  it.each([".", "..", "...", "a/b", "../user-memory"])("refuses %j before any request, and the container stays", async (id) => {
    const bystander = uniqueId("bystander");
    await store.update(bystander, undefined, () => ({ kept: true }));
    await expect(store.read(id)).rejects.toMatchObject({ code: "invalid_id" });
    await expect(store.remove(id)).rejects.toMatchObject({ code: "invalid_id" });
    await expect(store.update(id, undefined, () => ({}))).rejects.toMatchObject({ code: "invalid_id" });
    expect((await store.read(bystander)).preferences).toEqual({ kept: true });
  });
});
