import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_NAMES, CONFIG_RANGES } from "../../src/config";

const readme = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");
const table = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("### Learned preferences"));
const rowOf = (name: string) => table.split("\n").find((line) => line.startsWith("|") && line.includes(`\`${name}\``));

describe("README's configuration table", () => {
  it("lists every setting the worker reads", () => {
    expect(CONFIG_NAMES.filter((name) => !rowOf(name))).toEqual([]);
  });

  it.each(Object.entries(CONFIG_RANGES))("states the range of %s", (name, { min, max }) => {
    expect(rowOf(name)).toContain(`${min.toLocaleString("en-US")} to ${max.toLocaleString("en-US")}`);
  });
});
