import type { Caller } from "../auth/caller";
import type { Config } from "../config";
import { InvalidRequestError } from "../http/errors";

/**
 * The model to ask: the request's, else DEFAULT_MODEL (`model: null`, which some clients send for
 * "the default", is no model named). ALLOWED_MODELS binds browser widgets;
 * trusted backends holding an API key keep full control.
 */
export function resolveModel(requested: string | null | undefined, caller: Caller, upstream: Config["upstream"]): string {
  const model = requested ?? upstream.defaultModel;
  if (caller.kind === "widget" && upstream.allowedModels.length > 0 && !upstream.allowedModels.includes(model)) {
    throw new InvalidRequestError(`The model '${model}' is not available here.`, { param: "model", code: "model_not_allowed" });
  }
  return model;
}
