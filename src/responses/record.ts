import { utf8Length } from "../http/utf8";
import { serializeResponse } from "../memory/response-record";
import { cutText } from "../memory/save-budget";
import type { RecordWithin } from "../turn/open-turn";
import type { ListedItem } from "./items";
import type { ResponseObject } from "./response-object";

/**
 * A response's record as large as the turn's save has room for: whole; else without its input
 * items (the session's own messages hold them); else with its texts cut as stored messages are.
 * When not even that fits, nothing is recorded (the turn is saved all the same).
 */
export function recordWithin(id: string, response: ResponseObject, inputItems: ListedItem[], maxTextBytes: number): RecordWithin {
  return (budgetBytes) => {
    const fits = (value: Parameters<typeof serializeResponse>[0]) => {
      const json = serializeResponse(value);
      // Inside the save's request the record is JSON again: its escapes count twice.
      return utf8Length(JSON.stringify(json)) <= budgetBytes ? { id, json } : undefined;
    };
    return fits({ response, input_items: inputItems }) ?? fits({ response, input_items: [] }) ?? fits({ response: withTextsCut(response, maxTextBytes), input_items: [] });
  };
}

function withTextsCut(response: ResponseObject, maxTextBytes: number): ResponseObject {
  const output = response.output.map((item) =>
    item.type === "message" ? { ...item, content: item.content.map((part) => ({ ...part, text: cutText(part.text, maxTextBytes) })) } : item,
  );
  return { ...response, output };
}
