/**
 * A small fixed corpus for measuring the token estimator against the exact o200k tokenizer: the
 * kinds of text a global audience sends. Used by tokens.test.ts; never bundled.
 */
export const TOKEN_CORPUS: Record<string, string> = {
  "English prose":
    "I'm planning a week in Lisbon in early spring with my partner. We like long walks, small restaurants where locals eat, and one or two museums, but nothing too crowded. Could you suggest which neighbourhoods to stay in, how to get around without a car, and what we should book in advance? We arrive on a Tuesday evening and leave the following Tuesday morning, so please sketch a rough day-by-day plan as well.",
  "source code":
    "export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {\n  const declared = Number(request.headers.get(\"Content-Length\") ?? NaN);\n  if (declared > maxBytes) throw tooLarge(maxBytes);\n  const reader = request.body!.getReader();\n  const chunks: Uint8Array[] = [];\n  let size = 0;\n  for (;;) {\n    const { done, value } = await reader.read();\n    if (done) break;\n    size += value.byteLength;\n    if (size > maxBytes) { await reader.cancel(); throw tooLarge(maxBytes); }\n    chunks.push(value);\n  }\n  return JSON.parse(new TextDecoder().decode(concat(chunks)));\n}",
  German:
    "Wir möchten im Frühling eine Woche in Lissabon verbringen und suchen eine ruhige Unterkunft in der Nähe der Altstadt. Könnten Sie uns sagen, welche Viertel sich zum Spazierengehen eignen, wie man ohne Auto vorankommt und welche Sehenswürdigkeiten man unbedingt vorher reservieren sollte? Außerdem interessieren uns kleine Restaurants mit regionaler Küche.",
  Japanese:
    "春にリスボンで一週間過ごす予定です。旧市街の近くで静かな宿を探しています。散歩に向いている地区、車なしでの移動方法、そして事前に予約しておくべき観光地を教えていただけますか。地元の料理を出す小さなレストランにも興味があります。",
  emoji: "Trip booked ✈️🌍! Packing 🧳👕👖🧦, sunscreen 🧴☀️, camera 📷 and snacks 🥐🧀🍷. Can't wait 🤩🎉🙌 — see you soon 👋😊❤️🇵🇹",
  "tool-call JSON":
    '{"location":{"city":"Lisbon","country":"PT","lat":38.7223,"lon":-9.1393},"dates":{"from":"2027-03-16","to":"2027-03-23"},"guests":2,"filters":{"max_price_eur":180,"neighbourhoods":["Alfama","Chiado","Príncipe Real"],"amenities":["wifi","kitchen","quiet"]}}',
};
