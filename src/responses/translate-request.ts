import { InvalidRequestError } from "../http/errors";
import { invalidRequestFrom } from "../http/zod-issue";
import { schemas, type ResponsesRequest } from "./schema";

/**
 * The Chat Completions parameters a Responses request means, besides model and messages. Pure:
 * what each field becomes is listed in the README's table.
 */
export function chatParameters(request: ResponsesRequest): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  const set = (name: string, value: unknown) => {
    if (value !== undefined && value !== null) params[name] = value;
  };
  set("temperature", request.temperature);
  set("top_p", request.top_p);
  set("max_completion_tokens", request.max_output_tokens);
  set("parallel_tool_calls", request.parallel_tool_calls);
  set("user", request.user);
  set("service_tier", request.service_tier);
  set("prompt_cache_key", request.prompt_cache_key);
  set("safety_identifier", request.safety_identifier);
  set("reasoning_effort", request.reasoning?.effort);
  set("verbosity", request.text?.verbosity);
  if (request.top_logprobs) {
    params.logprobs = true;
    params.top_logprobs = request.top_logprobs;
  }
  if (request.tools?.length) params.tools = request.tools.map(chatTool);
  const choice = request.tool_choice;
  if (choice) params.tool_choice = typeof choice === "string" ? choice : { type: "function", function: { name: choice.name } };
  const format = request.text?.format;
  if (format?.type === "json_object") params.response_format = { type: "json_object" };
  if (format?.type === "json_schema") {
    const { type: _type, ...schema } = format;
    params.response_format = { type: "json_schema", json_schema: schema };
  }
  return params;
}

function chatTool(tool: { type: string }, index: number) {
  if (tool.type !== "function") {
    throw new InvalidRequestError(`Tools of type '${tool.type.slice(0, 40)}' are not supported: only function tools reach the model.`, {
      param: `tools[${index}].type`,
      code: "unsupported_value",
    });
  }
  const parsed = schemas().functionTool.safeParse(tool);
  if (!parsed.success) throw invalidRequestFrom(parsed.error.issues, `tools[${index}]`);
  const { name, description, parameters, strict } = parsed.data;
  return {
    type: "function",
    function: { name, ...(description ? { description } : {}), ...(parameters ? { parameters } : {}), ...(strict !== undefined && strict !== null ? { strict } : {}) },
  };
}
