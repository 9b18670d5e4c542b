import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack } from "../../dev/stack";

describe("the local stack's worker port", () => {
  let server: Server;
  let busy: number;

  beforeAll(async () => {
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    busy = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  // Otherwise the stack's health check would be answered by whatever listens there, and it would
  // report that as its own worker.
  it("refuses a PORT something already listens on, by name, before starting anything", async () => {
    await expect(startStack({ env: { PORT: String(busy) }, devVars: false, workerOutput: false })).rejects.toThrow(`PORT ${busy} is in use`);
  });

  it("refuses a PORT that is not a port", async () => {
    await expect(startStack({ env: { PORT: "http" }, devVars: false, workerOutput: false })).rejects.toThrow("PORT must be a port number");
  });
});
