import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The layering src/layers.json declares, checked against every import in src/ (tests beside the
 * code included: they may reach down, never up).
 */
const src = resolve(import.meta.dirname, "..", "..", "src");
const { layers } = JSON.parse(readFileSync(join(src, "layers.json"), "utf8")) as { layers: { name: string; paths: string[]; apart?: boolean }[] };

const files = readdirSync(src, { recursive: true, encoding: "utf8" })
  .filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))
  .map((file) => file.split("\\").join("/"));

function layerOf(file: string): { index: number; group: string } {
  const index = layers.findIndex((layer) => layer.paths.some((path) => (path.endsWith("/") ? file.startsWith(path) : file === path)));
  if (index < 0) throw new Error(`src/${file} is in no layer of src/layers.json`);
  const layer = layers[index]!;
  return { index, group: layer.apart ? file.split("/")[0]! : layer.name };
}

/** What each file imports from src/ (type-only imports too: they tie the layers all the same). */
const imports = new Map(
  files.map((file) => {
    const text = readFileSync(join(src, file), "utf8");
    const targets = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.{1,2}\/[^"]+)"|import\("(\.{1,2}\/[^"]+)"\)/g)]
      .map((match) => relative(src, resolve(dirname(join(src, file)), match[1] ?? match[2]!)).split("\\").join("/"))
      .map((target) => (files.includes(`${target}.ts`) ? `${target}.ts` : target))
      .filter((target) => files.includes(target));
    return [file, [...new Set(targets)]];
  }),
);

describe("src/ layers", () => {
  it("every file belongs to a layer", () => {
    for (const file of files) expect(() => layerOf(file)).not.toThrow();
  });

  it("imports only point down, or within a layer", () => {
    const upward = [...imports].flatMap(([file, targets]) =>
      targets.filter((target) => layerOf(target).index > layerOf(file).index).map((target) => `${file} -> ${target}`),
    );
    expect(upward).toEqual([]);
  });

  it("the front doors never import each other", () => {
    const across = [...imports].flatMap(([file, targets]) => {
      const from = layerOf(file);
      return targets.filter((target) => layerOf(target).index === from.index && layerOf(target).group !== from.group).map((target) => `${file} -> ${target}`);
    });
    expect(across).toEqual([]);
  });

  it("has no import circle", () => {
    const circles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "open") {
        circles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
        return;
      }
      state.set(file, "open");
      for (const target of imports.get(file) ?? []) visit(target, [...path, file]);
      state.set(file, "done");
    };
    for (const file of files) visit(file, []);
    expect(circles).toEqual([]);
  });
});
