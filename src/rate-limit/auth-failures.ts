import type { Config } from "../config";
import { redisClient } from "../redis/client";
import { addressBucket } from "./address-bucket";
import { RedisBatch } from "../redis/batch";
import { authFailuresBlockedUntil, countAuthFailure, tooManyRequests, type Verdict } from "./rate-limit";

const TOO_MANY = "Too many failed authentication attempts from this address.";

/** Counts a failure against the IP; undefined when it could not be counted (no Redis, Redis down). */
async function countFailure(config: Config, ip: string): Promise<Verdict | undefined> {
  if (!config.redis) return undefined;
  const batch = new RedisBatch(redisClient(config));
  const verdict = countAuthFailure(config, batch, ip)?.catch(() => undefined);
  try {
    await batch.flush();
  } catch {
    // Redis being down must not turn a 401 into something else.
  }
  return verdict;
}

/**
 * For a request whose credential has just failed verification, and only for one: counts the
 * failure against the caller's address and throws 429 once the address is over
 * AUTH_FAILURE_LIMIT. A credential that verifies is never refused for its address's failures, so
 * one hostile client behind a shared address (an office, a carrier NAT) cannot lock out the rest.
 * An address known in this isolate to be over the limit is refused without a Redis round trip.
 * An IPv6 address is counted by its /64 (addressBucket). Without an address (no CF-Connecting-IP)
 * nothing is counted: there is no bucket of the caller's own, and a shared one would let one
 * client lock out every other such client.
 */
export async function refuseRepeatedFailures(config: Config, address: string | undefined): Promise<void> {
  if (address === undefined || config.rateLimit.authFailures === 0) return;
  const ip = addressBucket(address);
  const blockedUntil = authFailuresBlockedUntil(ip);
  if (blockedUntil !== undefined) throw tooManyRequests(TOO_MANY, blockedUntil);
  const verdict = await countFailure(config, ip);
  if (verdict && !verdict.success) throw tooManyRequests(TOO_MANY, verdict.reset);
}
